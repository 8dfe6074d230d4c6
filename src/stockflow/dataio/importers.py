"""What each kind of import reads, checks and writes.

An importer checks the header once (``check_header``), then the rows chunk by chunk: ``load``
reads what a chunk refers to (its products, levels, suppliers) in a few queries, ``check``
turns one row into a ``Plan`` (create, update or unchanged, and what to write) or raises
``RowErrors``. ``write`` carries a plan out through the services of the lower layers
(``inventory.catalog_stock``, ``inventory.movements``, ``inventory.sales``,
``catalog.services``), so every stock change is in the ledger exactly as if it came through
the API; a kind may instead keep the plans of a chunk and ``flush`` them through the bulk
form of those services (products, stock counts: a few statements per chunk). The same checks run in the
dry run and again, on the rows as they are then, when the job is applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers
from rest_framework.exceptions import APIException, ValidationError

from stockflow import locking
from stockflow.api.fields import MoneyField
from stockflow.api.limits import MAX_OPERATION_QUANTITY, MAX_STOCK_QUANTITY
from stockflow.catalog import services as catalog
from stockflow.catalog.models import (
    COST_DECIMAL_PLACES,
    COST_MAX_DIGITS,
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    SKU_MAX_LENGTH,
    Product,
    ProductSupplier,
    ProductType,
    SkuRegistration,
    Supplier,
    Warehouse,
)
from stockflow.dataio.models import ImportKind
from stockflow.inventory import catalog_stock, movements
from stockflow.inventory.models import StockLevel
from stockflow.inventory.operations import check_can_hold_stock
from stockflow.inventory.sales import write_sales_history
from stockflow.tenancy.models import Company, Role

STOCK_PREFIX = "stock:"
CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
_WHOLE = re.compile(r"\d+")
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"", "0", "false", "no", "n"}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


class RowRefused(Exception):
    """A service refused the write of a kept row (``flush``): ``error`` on row ``row``."""

    def __init__(self, row: int, error: APIException):
        super().__init__(row, error)
        self.row = row
        self.error = error


class RowErrors(Exception):
    def __init__(self, errors: list[tuple[str, str, str]]):
        super().__init__(errors)
        #: (column, code, message)
        self.errors = errors


@dataclass
class Plan:
    outcome: str
    data: dict = field(default_factory=dict)
    #: the row number of the row planned (set when the row is checked)
    row: int = 0


@cache
def _money_field(max_digits: int, decimal_places: int) -> MoneyField:
    """The API's amount field, built once per shape (a file has a cell per row)."""
    return MoneyField(max_digits, decimal_places)


@cache
def _money_field(max_digits: int, decimal_places: int) -> MoneyField:
    """One field per precision, shared by every cell: building it per cell was most of the
    cost of checking a row."""
    return MoneyField(max_digits, decimal_places)


class Cells:
    """One row's cells by column name, collecting every error of the row before raising."""

    def __init__(self, values: dict[str, str]):
        self.values = values
        self.errors: list[tuple[str, str, str]] = []

    def has(self, column: str) -> bool:
        return column in self.values

    def text(self, column: str, *, required: bool = False, max_length: int = 0) -> str:
        value = self.values.get(column, "")
        if required and not value:
            self.fail(column, "required", "This cell is required.")
        elif max_length and len(value) > max_length:
            self.fail(column, "too_long", f"At most {max_length} characters.")
        return value

    def whole(self, column: str, *, required: bool = False, maximum: int = MAX_STOCK_QUANTITY):
        """A whole number from 0 to ``maximum``; ``None`` for an empty optional cell."""
        value = self.values.get(column, "")
        if not value:
            if required:
                self.fail(column, "required", "This cell is required.")
            return None
        if not _WHOLE.fullmatch(value) or int(value) > maximum:
            self.fail(
                column,
                "invalid_quantity",
                f"Must be a whole number from 0 to {maximum}: {value!r}.",
            )
            return None
        return int(value)

    def money(self, column: str, max_digits: int, decimal_places: int, *, required: bool):
        value = self.values.get(column, "")
        if not value:
            if required:
                self.fail(column, "required", "This cell is required.")
            return None
        try:
            return Decimal(_money_field(max_digits, decimal_places).run_validation(value))
        except serializers.ValidationError as error:
            self.fail(column, "invalid_amount", " ".join(str(m) for m in error.detail))
            return None

    def boolean(self, column: str) -> bool:
        value = self.values.get(column, "").lower()
        if value not in _TRUE | _FALSE:
            self.fail(column, "invalid", f"Must be true or false: {value!r}.")
        return value in _TRUE

    def fail(self, column: str, code: str, message: str) -> None:
        self.errors.append((column, code, message))

    def done(self) -> None:
        if self.errors:
            raise RowErrors(self.errors)


def _current(product: Product, name: str):
    """A product's field, its type compared by id (no query)."""
    if name == "product_type":
        return product.product_type_id
    return getattr(product, name)


def _refusal_message(error: ValidationError) -> str:
    detail = error.detail
    if isinstance(detail, dict):
        return " ".join(str(m) for messages in detail.values() for m in messages)
    return " ".join(str(m) for m in detail)


class Importer:
    kind: str
    min_role: str = Role.ADMIN
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    #: the columns naming a row, for duplicates within the file
    key_columns: tuple[str, ...] = ()
    #: whether a row that changes nothing is still written (a stock count is a record)
    writes_unchanged = False
    #: whether the apply locks the levels of the file's products first (see ``locking``)
    locks_levels = False

    def __init__(self, company_id: int, *, actor=None, import_id: int | None = None):
        self.company_id = company_id
        self.actor = actor
        self.import_id = import_id
        self.columns: list[str] = []
        self.seen: set[tuple] = set()
        self.warehouses = {
            w.code: w for w in Warehouse.objects.filter(company_id=company_id).order_by("id")
        }

    # --- the header -----------------------------------------------------------------------

    def column_of(self, name: str) -> str | None:
        """The column a header cell names, or ``None`` if this kind has no such column."""
        lowered = name.lower()
        return lowered if lowered in self.required or lowered in self.optional else None

    def check_header(self, header: list[str]) -> list[RowError]:
        errors, columns = [], []
        for name in header:
            column = self.column_of(name)
            if column is None:
                errors.append(RowError(1, name, "unknown_column", self.unknown_message(name)))
            elif column in columns:
                errors.append(RowError(1, name, "duplicate_column", "This column appears twice."))
            columns.append(column or name)
        for column in self.required:
            if column not in columns:
                errors.append(RowError(1, column, "missing_column", "This column is required."))
        self.columns = columns
        return errors

    def unknown_message(self, name: str) -> str:
        known = ", ".join([*self.required, *self.optional])
        return f"Unknown column {name!r}; the columns of a {self.kind} import are: {known}."

    # --- the rows -------------------------------------------------------------------------

    def cells(self, row: list[str]) -> Cells:
        values = dict(zip(self.columns, row, strict=False))
        return Cells(values)

    def load(self, rows: list[Cells]) -> None:
        """Read what the chunk ``rows`` refers to."""

    def check_duplicate(self, cells: Cells) -> None:
        key = tuple(cells.values.get(column, "").lower() for column in self.key_columns)
        if all(key):
            if key in self.seen:
                column = self.key_columns[0]
                cells.fail(column, "duplicate", "The same row key appears earlier in the file.")
            self.seen.add(key)

    def check(self, cells: Cells) -> Plan:
        raise NotImplementedError

    def lock_company(self) -> None:
        """Take the locks of the company that the apply of this kind holds before any row
        lock (``stockflow.locking``)."""

    def write(self, plan: Plan) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Write what ``write`` kept for one statement per chunk; a service's refusal of a
        row is raised as ``RowRefused``."""

    def products_by_sku(self, skus) -> dict[str, Product]:
        return {
            p.sku: p for p in Product.objects.filter(company_id=self.company_id, sku__in=set(skus))
        }

    def product(self, cells: Cells, products: dict[str, Product]) -> Product | None:
        sku = cells.text("sku", required=True)
        product = products.get(sku)
        if sku and product is None:
            cells.fail("sku", "unknown_product", f"No product with SKU {sku!r} in this company.")
        return product

    def warehouse(self, cells: Cells, column: str = "warehouse") -> Warehouse | None:
        code = cells.text(column, required=True)
        warehouse = self.warehouses.get(code)
        if code and warehouse is None:
            cells.fail(column, "unknown_warehouse", f"No warehouse with code {code!r}.")
        return warehouse


class ProductImporter(Importer):
    """Products by SKU: new ones are created with their opening stock (``stock:<code>``
    columns, one per warehouse; the ledger's ``initial`` entries refer to the import);
    existing ones of the company are updated. Opening stock is given with new products only:
    on an existing product a stock cell must equal the stock there (an exported file
    re-imports unchanged); a count changes it. ``total_stock`` (written by the export) is
    read and ignored."""

    kind = ImportKind.PRODUCTS
    required = ("sku", "name", "price")
    optional = ("description", "product_type", "low_stock_threshold", "total_stock")
    key_columns = ("sku",)
    # Updated products' levels are locked before their rows, for every chunk at once.
    locks_levels = True

    def column_of(self, name: str) -> str | None:
        if name.lower().startswith(STOCK_PREFIX):
            return STOCK_PREFIX + name[len(STOCK_PREFIX) :].strip()
        return super().column_of(name)

    def check_header(self, header: list[str]) -> list[RowError]:
        errors = super().check_header(header)
        for column in self.columns:
            code = column[len(STOCK_PREFIX) :] if column.startswith(STOCK_PREFIX) else None
            if code is not None and code not in self.warehouses:
                errors.append(
                    RowError(1, column, "unknown_warehouse", f"No warehouse with code {code!r}.")
                )
        return errors

    def unknown_message(self, name: str) -> str:
        return super().unknown_message(name) + " Opening stock: stock:<warehouse code>."

    @property
    def stock_columns(self) -> list[str]:
        return [c for c in self.columns if c.startswith(STOCK_PREFIX)]

    def lock_company(self) -> None:
        locking.serialize_product_imports(self.company_id)

    def load(self, rows: list[Cells]) -> None:
        self.pending: list[Plan] = []
        skus = {cells.values.get("sku", "") for cells in rows} - {""}
        self.products = self.products_by_sku(skus)
        self.taken = set(
            SkuRegistration.objects.filter(sku__in=skus - set(self.products))
            .exclude(company_id=self.company_id)
            .values_list("sku", flat=True)
        )
        self.levels = {
            (level.product_id, level.warehouse_id): level.quantity
            for level in StockLevel.objects.filter(
                company_id=self.company_id, product_id__in=[p.pk for p in self.products.values()]
            )
        }
        if not hasattr(self, "types"):
            self.types = {
                t.name.lower(): t for t in ProductType.objects.filter(company_id=self.company_id)
            }

    def check(self, cells: Cells) -> Plan:
        self.check_duplicate(cells)
        sku = cells.text("sku", required=True, max_length=SKU_MAX_LENGTH)
        if sku in self.taken:
            cells.fail("sku", "sku_conflict", f"A product with SKU {sku!r} already exists.")
        fields = {
            "name": cells.text("name", required=True, max_length=200),
            "price": cells.money("price", PRICE_MAX_DIGITS, PRICE_DECIMAL_PLACES, required=True),
        }
        if cells.has("description"):
            fields["description"] = cells.text("description")
        if cells.has("low_stock_threshold"):
            fields["low_stock_threshold"] = cells.whole("low_stock_threshold")
        type_name = None
        if cells.has("product_type"):
            type_name = cells.text("product_type", max_length=120)
            known = self.types.get(type_name.lower()) if type_name else None
            fields["product_type"] = known.pk if known else None
        stock = {}
        for column in self.stock_columns:
            quantity = cells.whole(column, maximum=MAX_OPERATION_QUANTITY)
            if quantity is not None:
                stock[self.warehouses[column[len(STOCK_PREFIX) :]]] = quantity
        product = self.products.get(sku)
        if product is None:
            if not self.warehouses:
                cells.fail("sku", "no_warehouse", "The company has no warehouse to hold stock.")
            cells.done()
            return Plan(CREATE, {"sku": sku, "fields": fields, "stock": stock, "type": type_name})
        for warehouse, quantity in stock.items():
            if product.is_bundle and quantity:
                cells.fail(STOCK_PREFIX + warehouse.code, "not_stocked", "A bundle has no stock.")
            elif quantity != self.levels.get((product.pk, warehouse.pk), 0):
                cells.fail(
                    STOCK_PREFIX + warehouse.code,
                    "stock_exists",
                    "Opening stock is imported with new products only; "
                    "import a stock count to change the stock of an existing product.",
                )
        cells.done()
        changes = {k: v for k, v in fields.items() if _current(product, k) != v}
        if type_name and fields["product_type"] is None:
            changes["product_type"] = None  # a new type, created when the plan is written
        if not changes:
            return Plan(UNCHANGED)
        return Plan(UPDATE, {"product": product, "changes": changes, "type": type_name})

    def product_type(self, plan: Plan) -> None:
        name = plan.data["type"]
        if name and name.lower() not in self.types:
            self.types[name.lower()] = catalog.create_product_type(
                company=Company(pk=self.company_id), name=name
            )
        changes = plan.data["fields"] if plan.outcome == CREATE else plan.data["changes"]
        if "product_type" in changes:
            changes["product_type"] = self.types[name.lower()] if name else None

    def write(self, plan: Plan) -> None:
        self.product_type(plan)
        self.pending.append(plan)

    def opening_stock(self, plan: Plan) -> dict[Warehouse, int]:
        """The levels a new product is created with: its stock cells that are not empty, in
        the order of the columns; none, a level holding 0 in the company's first warehouse."""
        first = next(iter(self.warehouses.values()))
        return plan.data["stock"] or {first: 0}

    def flush(self) -> None:
        """The chunk's updates in one bulk update, then its new products with their opening
        stock in a few statements (``inventory.catalog_stock``)."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        try:
            catalog_stock.update_products(
                company_id=self.company_id,
                changes=[
                    (plan.data["product"], plan.data["changes"])
                    for plan in pending
                    if plan.outcome == UPDATE
                ],
            )
            catalog_stock.create_products(
                company_id=self.company_id,
                products=[
                    catalog_stock.NewProduct(
                        {"sku": plan.data["sku"], **plan.data["fields"]}, self.opening_stock(plan)
                    )
                    for plan in pending
                    if plan.outcome == CREATE
                ],
                actor=self.actor,
                import_id=self.import_id,
            )
        except APIException as error:
            # A SKU taken meanwhile names its row; any other refusal is the chunk's.
            rows = {plan.data.get("sku"): plan.row for plan in pending}
            sku = getattr(error, "details", {}).get("sku")
            raise RowRefused(rows.get(sku, pending[0].row), error) from None


class SupplierImporter(Importer):
    """Suppliers by name (case-insensitive): new ones are created, existing ones updated."""

    kind = ImportKind.SUPPLIERS
    required = ("name",)
    optional = ("contact_email", "phone")
    key_columns = ("name",)

    def load(self, rows: list[Cells]) -> None:
        if not hasattr(self, "suppliers"):
            self.suppliers = {
                s.name.lower(): s for s in Supplier.objects.filter(company_id=self.company_id)
            }

    def check(self, cells: Cells) -> Plan:
        self.check_duplicate(cells)
        fields = {"name": cells.text("name", required=True, max_length=200)}
        if cells.has("contact_email"):
            email = cells.text("contact_email", max_length=254)
            if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                cells.fail("contact_email", "invalid", f"Not an email address: {email!r}.")
            fields["contact_email"] = email
        if cells.has("phone"):
            fields["phone"] = cells.text("phone", max_length=40)
        cells.done()
        supplier = self.suppliers.get(fields["name"].lower())
        if supplier is None:
            return Plan(CREATE, {"fields": fields})
        changes = {k: v for k, v in fields.items() if getattr(supplier, k) != v}
        return (
            Plan(UPDATE, {"supplier": supplier, "changes": changes}) if changes else Plan(UNCHANGED)
        )

    def write(self, plan: Plan) -> None:
        if plan.outcome == UPDATE:
            catalog.update_supplier(plan.data["supplier"], **plan.data["changes"])
        else:
            supplier = catalog.create_supplier(
                company=Company(pk=self.company_id), **plan.data["fields"]
            )
            self.suppliers[supplier.name.lower()] = supplier


class ProductSupplierImporter(Importer):
    """Product-supplier links by SKU and supplier (its name, or its contact email)."""

    kind = ImportKind.PRODUCT_SUPPLIERS
    required = ("sku", "supplier")
    optional = ("supplier_sku", "unit_cost", "lead_time_days", "is_primary")
    key_columns = ("sku", "supplier")
    FIELDS = ("supplier_sku", "unit_cost", "lead_time_days", "is_primary")

    def load(self, rows: list[Cells]) -> None:
        self.products = self.products_by_sku(c.values.get("sku", "") for c in rows)
        if not hasattr(self, "suppliers"):
            self.suppliers = {}
            for supplier in Supplier.objects.filter(company_id=self.company_id).order_by("-id"):
                self.suppliers[supplier.name.lower()] = supplier
                if supplier.contact_email:
                    self.suppliers[supplier.contact_email.lower()] = supplier
            self.primary_in_file: set[int] = set()
        self.links = {
            (link.product_id, link.supplier_id): link
            for link in ProductSupplier.objects.filter(
                company_id=self.company_id, product_id__in=[p.pk for p in self.products.values()]
            )
        }

    def check(self, cells: Cells) -> Plan:
        self.check_duplicate(cells)
        product = self.product(cells, self.products)
        name = cells.text("supplier", required=True)
        supplier = self.suppliers.get(name.lower())
        if name and supplier is None:
            cells.fail("supplier", "unknown_supplier", f"No supplier named {name!r}.")
        fields = {}
        if cells.has("supplier_sku"):
            fields["supplier_sku"] = cells.text("supplier_sku", max_length=SKU_MAX_LENGTH)
        if cells.has("unit_cost"):
            fields["unit_cost"] = cells.money(
                "unit_cost", COST_MAX_DIGITS, COST_DECIMAL_PLACES, required=False
            )
        if cells.has("lead_time_days"):
            days = cells.whole("lead_time_days", maximum=3650)
            fields["lead_time_days"] = 7 if days is None else days
        if cells.has("is_primary"):
            fields["is_primary"] = cells.boolean("is_primary")
            if fields["is_primary"] and product is not None:
                if product.pk in self.primary_in_file:
                    cells.fail("is_primary", "duplicate_primary", "Two primary suppliers.")
                self.primary_in_file.add(product.pk)
        cells.done()
        link = self.links.get((product.pk, supplier.pk))
        if link is None:
            return Plan(CREATE, {"product": product, "supplier": supplier, "fields": fields})
        changes = {k: v for k, v in fields.items() if getattr(link, k) != v}
        return Plan(UPDATE, {"link": link, "changes": changes}) if changes else Plan(UNCHANGED)

    def write(self, plan: Plan) -> None:
        if plan.outcome == UPDATE:
            catalog.update_supplier_link(plan.data["link"], **plan.data["changes"])
        else:
            catalog.link_supplier(
                product=plan.data["product"], supplier=plan.data["supplier"], **plan.data["fields"]
            )


class StockCountImporter(Importer):
    """Stock counts: each row is a ``count`` adjustment to the counted quantity (a count
    matching the stock is recorded too, and changes nothing), written a chunk at a time.
    The movements' external reference names the import."""

    kind = ImportKind.STOCK_COUNTS
    min_role = Role.STAFF
    required = ("sku", "warehouse", "counted_quantity")
    key_columns = ("sku", "warehouse")
    writes_unchanged = True
    locks_levels = True

    def load(self, rows: list[Cells]) -> None:
        self.pending: list[Plan] = []
        self.products = self.products_by_sku(c.values.get("sku", "") for c in rows)
        self.levels = {
            (level.product_id, level.warehouse_id): level.quantity
            for level in StockLevel.objects.filter(
                company_id=self.company_id, product_id__in=[p.pk for p in self.products.values()]
            )
        }

    def check(self, cells: Cells) -> Plan:
        self.check_duplicate(cells)
        product = self.product(cells, self.products)
        warehouse = self.warehouse(cells)
        counted = cells.whole("counted_quantity", required=True)
        if product is not None and warehouse is not None:
            try:
                check_can_hold_stock(product, warehouse)
            except ValidationError as error:
                cells.fail("sku", "not_stocked", _refusal_message(error))
        cells.done()
        before = self.levels.get((product.pk, warehouse.pk), 0)
        data = {"product": product, "warehouse": warehouse, "counted": counted}
        return Plan(UNCHANGED if counted == before else UPDATE, data)

    def write(self, plan: Plan) -> None:
        self.pending.append(plan)

    def flush(self) -> None:
        """The chunk's counts in a few statements (``inventory.movements.count_stocks``)."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        try:
            movements.count_stocks(
                self.company_id,
                [
                    (plan.data["product"], plan.data["warehouse"], plan.data["counted"])
                    for plan in pending
                ],
                actor=self.actor,
                external_reference=f"import:{self.import_id}",
                note=f"Stock count imported (import {self.import_id})",
            )
        except APIException as error:
            raise RowRefused(pending[0].row, error) from None


class SaleImporter(Importer):
    """Sales history: past sales recorded for the figures and the forecast. They take no
    stock (the opening stock already is what remains after them) and write no ledger entry,
    so the ledger invariant holds whatever the history says."""

    kind = ImportKind.SALES
    min_role = Role.STAFF
    required = ("sku", "warehouse", "quantity", "sold_at")
    optional = ("unit_price",)

    def load(self, rows: list[Cells]) -> None:
        self.products = self.products_by_sku(c.values.get("sku", "") for c in rows)
        self.pending: list[dict] = []

    def sold_at(self, cells: Cells) -> datetime | None:
        text = cells.text("sold_at", required=True)
        if not text:
            return None
        try:
            moment = parse_datetime(text)
            day = None if moment else parse_date(text)
        except ValueError:  # well formed, but no such day or time
            moment = day = None
        if day is not None:
            moment = datetime(day.year, day.month, day.day)
        if moment is None:
            cells.fail("sold_at", "invalid", f"Not an ISO 8601 date or time: {text!r}.")
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        if moment > timezone.now():
            cells.fail("sold_at", "invalid", "A sale cannot be dated in the future.")
        return moment

    def check(self, cells: Cells) -> Plan:
        product = self.product(cells, self.products)
        warehouse = self.warehouse(cells)
        quantity = cells.whole("quantity", required=True, maximum=MAX_OPERATION_QUANTITY)
        if quantity == 0:
            cells.fail("quantity", "invalid_quantity", "Must be at least 1.")
        price = cells.money("unit_price", PRICE_MAX_DIGITS, PRICE_DECIMAL_PLACES, required=False)
        sold_at = self.sold_at(cells)
        if product is not None and warehouse is not None:
            try:
                check_can_hold_stock(product, warehouse, sale=True)
            except ValidationError as error:
                cells.fail("sku", "not_sold", _refusal_message(error))
        cells.done()
        return Plan(
            CREATE,
            {
                "product": product,
                "warehouse": warehouse,
                "quantity": quantity,
                "unit_price": product.price if price is None else price,
                "sold_at": sold_at,
            },
        )

    def write(self, plan: Plan) -> None:
        self.pending.append(plan.data)

    def flush(self) -> None:
        write_sales_history(company_id=self.company_id, sales=self.pending, actor=self.actor)
        self.pending = []


IMPORTERS: dict[str, type[Importer]] = {
    importer.kind: importer
    for importer in (
        ProductImporter,
        SupplierImporter,
        ProductSupplierImporter,
        StockCountImporter,
        SaleImporter,
    )
}
