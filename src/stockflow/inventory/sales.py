"""Sales: ``sell``, the one entry of POST /api/sales, and the complete path, ``record_sale``.

A sale takes its units out of stock and writes the ``Sale`` and one ledger entry per level
changed, all or nothing (see ``operations`` for what every stock operation shares). A plain
product sells from its one stock level; a bundle sells the units of its leaf components.
"""

from __future__ import annotations

from dataclasses import make_dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from stockflow import locking, prepared
from stockflow.bulkinsert import insert_values
from stockflow.catalog.models import Product, Warehouse
from stockflow.catalog.selectors import bundle_leaf_components
from stockflow.inventory.events import record_crossings
from stockflow.inventory.models import LedgerEntry, LedgerReason, ReferenceType, Sale, StockLevel
from stockflow.inventory.operations import (
    MAY_HOLD_STOCK,
    InsufficientStock,
    LevelChange,
    StockOperationResult,
    apply_changes,
    check_can_hold_stock,
    check_quantity,
    level_move,
    run_locked,
    short_line,
    stock_rules_sql,
)
from stockflow.locking import LevelGuard, LevelKey, LockedLevel
from stockflow.sqlparams import datetime_param
from stockflow.tenancy.scoping import TenantScope

# A sale may be dated slightly ahead of the server clock (clock skew), not more.
SOLD_AT_MAX_AHEAD = timedelta(minutes=5)


class SaleRequest(Protocol):
    """A sale as a caller asked for it, before its ids are resolved (the API's request)."""

    @property
    def plain(self) -> tuple[int, int, int] | None:
        """``(product_id, warehouse_id, quantity)`` when the request says nothing else (no
        price, no date) and each is a whole number within bounds; else ``None``."""

    @property
    def resolved(self) -> bool:
        """Whether ``resolve`` has run already."""

    def resolve(self) -> dict:
        """The keyword arguments of ``record_sale``: the product and the warehouse resolved
        within the caller's companies, the quantity, and the price and date when given.
        Raises the 400, 403 or 404 that the request deserves."""


def sell(
    request: SaleRequest,
    *,
    actor,
    scope: TenantScope,
    role: str,
    fast_path: bool | None = None,
) -> StockOperationResult:
    """Record the sale ``request`` asks for on behalf of ``actor``, who needs ``role`` in the
    product's company (``scope``). One result whichever of the two paths records it:

    * The fast path, for a plain request not resolved yet (the commonest sale: POST
      /api/sales is the hottest write of the service). One conditional UPDATE
      (``locking.change_stock_level`` with a guard) takes the units if the level holds them,
      belongs to a company where the caller has ``role`` (``scope.sql_condition``) and its
      product and warehouse meet ``MAY_HOLD_STOCK``; then the sale and its ledger entry are
      inserted exactly as ``record_sale`` inserts them (``_write_level_sale``). No read, no
      ORM compilation; on PostgreSQL the three statements are prepared once per connection
      (``stockflow.prepared``: parsed, rewritten with the row-security policies and planned
      once, not at every sale).
    * The complete path: ``request.resolve()`` (two reads, and the precise 400/403/404), then
      ``record_sale``. Taken by any other request, by a request resolved already (an
      Idempotency-Key needs the product's company before the sale: the fast path would save
      nothing then), and whenever the fast path's UPDATE takes nothing (a bundle, an inactive
      or foreign product or warehouse, a missing level, too little stock: nothing was written,
      and the complete path gives the precise answer, e.g. 409 with the short lines).

    ``fast_path`` (default: the ``SALE_FAST_PATH`` setting, on) set to False sends every
    request the complete way; the tests run the same requests both ways and compare."""
    if fast_path is None:
        fast_path = settings.SALE_FAST_PATH
    plain = request.plain if fast_path and not request.resolved else None
    if plain is not None:
        product_id, warehouse_id, quantity = plain
        result = _sell_plain_level(
            (product_id, warehouse_id), quantity, actor=actor, scope=scope, role=role
        )
        if result is not None:
            return result
    return record_sale(**request.resolve(), actor=actor)


def check_sold_at(sold_at: datetime | None, now: datetime) -> datetime:
    """``sold_at`` defaults to now; past dates are allowed (imports), future ones are not."""
    if sold_at is None:
        return now
    if sold_at > now + SOLD_AT_MAX_AHEAD:
        raise ValidationError({"sold_at": ["A sale cannot be dated in the future."]})
    return sold_at


def record_sale(
    *,
    product: Product,
    warehouse: Warehouse,
    quantity: int,
    unit_price: Decimal | None = None,
    sold_at: datetime | None = None,
    actor=None,
) -> StockOperationResult:
    """Record a sale and take its units out of stock, all or nothing: the complete path of
    ``sell``, and the service for a caller that holds the product and the warehouse.

    A product: one conditional UPDATE takes the units if the level holds enough (no separate
    lock statement), then the sale and its ledger entry are inserted. A bundle: every leaf
    component times ``quantity`` is taken out of the warehouse, all levels locked in one
    statement; a shortage on any of them writes nothing. ``unit_price`` defaults to the
    product's price, ``sold_at`` to now (past dates allowed, future ones refused)."""
    check_can_hold_stock(product, warehouse, sale=True)
    check_quantity(quantity)
    now = timezone.now()
    sold_at = check_sold_at(sold_at, now)
    if unit_price is None:
        unit_price = product.price
    if product.is_bundle:
        return _record_bundle_sale(product, warehouse, quantity, unit_price, sold_at, actor, now)

    key = (product.id, warehouse.id)
    with transaction.atomic(savepoint=False):
        level, refusal = _take_from_one_level(product.company_id, key, quantity, now)
        if refusal is None:
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                rows = _write_level_sale(
                    cursor,
                    level,
                    company_id=product.company_id,
                    quantity=quantity,
                    unit_price=unit_price,
                    sold_at=sold_at,
                    actor=actor,
                    now=now,
                )
            return StockOperationResult(
                _model(rows.document), [_model(entry) for entry in rows.ledger_entries]
            )
    raise refusal


#: the columns of a ``Sale`` that a recorded history sets, in the order of its rows
HISTORY_COLUMNS = (
    "company_id",
    "product_id",
    "warehouse_id",
    "quantity",
    "unit_price",
    "sold_at",
    "created_by_id",
    "created_at",
)
HISTORY_INSERT_ROWS = 5000


def _history_rows(company_id: int, sales: list[dict], actor) -> list[tuple]:
    """The checked values of each sale of a history, in ``HISTORY_COLUMNS`` order: the one
    definition of the rows that both writes below insert."""
    now = timezone.now()
    actor_id = None if actor is None else actor.pk
    rows = []
    for sale in sales:
        product, warehouse = sale["product"], sale["warehouse"]
        if product.company_id != company_id or warehouse.company_id != company_id:
            raise ValidationError({"product_id": ["Must belong to the company."]})
        check_can_hold_stock(product, warehouse, sale=True)
        check_quantity(sale["quantity"])
        sold_at = check_sold_at(sale["sold_at"], now)
        rows.append(
            (
                company_id,
                product.pk,
                warehouse.pk,
                sale["quantity"],
                sale["unit_price"],
                sold_at,
                actor_id,
                now,
            )
        )
    return rows


def record_sales_history(*, company_id: int, sales: list[dict], actor=None) -> list[Sale]:
    """Record past sales that moved no stock here (a history brought from another system,
    whose stock effect is already in the opening stock): ``Sale`` rows without ledger
    entries, read by the sales figures and the forecast. Each dict holds a product and a
    warehouse of ``company_id`` that may be sold from (``MAY_BE_SOLD``), a quantity, a unit
    price and a past ``sold_at``. Returns the sales with their ids; ``write_sales_history``
    writes the same rows in bulk."""
    rows = _history_rows(company_id, sales, actor)
    sales_rows = [Sale(**dict(zip(HISTORY_COLUMNS, row, strict=True))) for row in rows]
    return Sale.objects.bulk_create(sales_rows, batch_size=1000)


def write_sales_history(*, company_id: int, sales: list[dict], actor=None) -> int:
    """``record_sales_history``'s rows, checked alike, written in bulk with no object built
    and no id read back (an import of a million sales): ``bulkinsert.insert_values`` per
    ``HISTORY_INSERT_ROWS`` rows. Returns the number of rows."""
    rows = _history_rows(company_id, sales, actor)
    for start in range(0, len(rows), HISTORY_INSERT_ROWS):
        insert_values(Sale, HISTORY_COLUMNS, rows[start : start + HISTORY_INSERT_ROWS])
    return len(rows)


# --- one stock level ------------------------------------------------------------------------


def _sell_plain_level(
    key: LevelKey, quantity: int, *, actor, scope: TenantScope, role: str
) -> StockOperationResult | None:
    """The fast path of ``sell``: the sale recorded in three statements, or ``None`` having
    written nothing."""
    check_quantity(quantity)
    if not scope.company_ids(role):
        return None  # no company to sell in: the complete path answers
    now = timezone.now()
    db = connections[DEFAULT_DB_ALIAS]
    guard = _plain_level_guard(db, scope, role)
    with transaction.atomic(savepoint=False), db.cursor() as cursor:
        level = locking.change_stock_level(
            None, key, -quantity, guard=guard, now=now, cursor=cursor
        )
        if level is None:
            return None
        company_id, price = level.extra
        return _write_level_sale(
            cursor,
            level,
            company_id=company_id,
            quantity=quantity,
            unit_price=_price_from_db(db, price),
            sold_at=now,
            actor=actor,
            now=now,
        )


def _plain_level_guard(db, scope: TenantScope, role: str) -> LevelGuard:
    """The conditions of the fast path beyond the level's stock: the level belongs to a
    company where the caller has ``role``, its product and warehouse (same company) meet
    ``MAY_HOLD_STOCK``. Returns the level's company and its product's price."""
    tables, joins, returning = _plain_level_sql(db.vendor)
    companies, company_ids = scope.sql_condition(
        f"{StockLevel._meta.db_table}.company_id", role, array=prepared.enabled(db)
    )
    return LevelGuard(tables, f"{companies} AND {joins}", company_ids, returning)


@cache
def _plain_level_sql(vendor: str) -> tuple[str, str, str]:
    """The fixed parts of the fast path's guard: tables, conditions, returned columns."""
    level = StockLevel._meta.db_table
    product = Product._meta.db_table
    rules = stock_rules_sql(MAY_HOLD_STOCK, product="p", warehouse="w")
    joins = f"""p.id = {level}.product_id AND p.company_id = {level}.company_id
          AND w.id = {level}.warehouse_id AND w.company_id = {level}.company_id
          AND {rules}"""
    # SQLite's RETURNING cannot name the tables of UPDATE … FROM: a subquery reads the price.
    price = (
        "p.price"
        if vendor == "postgresql"
        else f"(SELECT price FROM {product} WHERE id = {level}.product_id)"
    )
    return f"{product} p, {Warehouse._meta.db_table} w", joins, f"{level}.company_id, {price}"


def _price_from_db(db, value) -> Decimal:
    """A price read by raw SQL, converted as the ORM converts ``Product.price`` (SQLite
    returns a float or an int: it becomes the same exact ``Decimal`` as through the ORM)."""
    field = Product._meta.get_field("price")
    column = field.get_col(Product._meta.db_table)
    for converter in db.ops.get_db_converters(column) + field.get_db_converters(db):
        value = converter(value, column, db)
    return value


def _take_from_one_level(
    company_id: int, key: LevelKey, quantity: int, now: datetime, attempts: int = 3
) -> tuple[LockedLevel | None, InsufficientStock | None]:
    """Take ``quantity`` units from one level with the conditional UPDATE; when it takes
    nothing, read what the level holds to report it. Units received between the two
    statements would make that report wrong ("available" enough): then try again."""
    for _ in range(attempts):
        level = locking.change_stock_level(company_id, key, -quantity, now=now)
        if level is not None:
            return level, None
        available = (
            StockLevel.objects.filter(company_id=company_id, product_id=key[0], warehouse_id=key[1])
            .values_list("quantity", flat=True)
            .first()
        ) or 0
        if available < quantity:
            break
    return None, InsufficientStock([short_line(key, quantity, available)])


_INSERT_SALE = f"""
    INSERT INTO {Sale._meta.db_table}
        (company_id, product_id, warehouse_id, quantity, unit_price, sold_at, created_by_id,
         created_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
    RETURNING id
"""
_INSERT_SALE_ENTRY = f"""
    INSERT INTO {LedgerEntry._meta.db_table}
        (company_id, stock_level_id, product_id, warehouse_id, change, quantity_after, reason,
         adjustment_reason, reference_type, reference_id, actor_id, note, created_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, '', %s, %s, %s, '', %s)
    RETURNING id
"""


def _insert_sale(
    cursor,
    *,
    company_id: int,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    unit_price: Decimal,
    sold_at: datetime,
    actor,
    now: datetime,
) -> object:
    """Insert the sale row (one statement, no ORM compilation); return its row record."""
    actor_id = actor.pk if actor is not None else None
    db = cursor.db
    prepared.execute(
        cursor,
        _INSERT_SALE,
        [
            company_id,
            product_id,
            warehouse_id,
            quantity,
            db.ops.adapt_decimalfield_value(unit_price),
            datetime_param(sold_at, db),
            actor_id,
            datetime_param(now, db),
        ],
    )
    return _row(
        Sale,
        id=cursor.fetchone()[0],
        company_id=company_id,
        product_id=product_id,
        warehouse_id=warehouse_id,
        quantity=quantity,
        unit_price=unit_price,
        sold_at=sold_at,
        created_by_id=actor_id,
        created_at=now,
    )


@cache
def _row_type(model) -> type:
    """A plain record of ``model``'s columns (its fields' ``attname``), for a row the fast
    path wrote: the serializers read it as they read the model, at a fraction of the cost
    of a model instance."""
    return make_dataclass(
        f"{model.__name__}Row",
        [field.attname for field in model._meta.concrete_fields],
        slots=True,
        namespace={"model": model},
    )


def _row(model, **values):
    return _row_type(model)(**values)


def _model(row):
    """The model instance of a row record, as the ORM builds a row it read (``from_db``)."""
    model = row.model
    return model.from_db(
        DEFAULT_DB_ALIAS,
        None,
        [getattr(row, field.attname) for field in model._meta.concrete_fields],
    )


def _write_level_sale(
    cursor,
    level: LockedLevel,
    *,
    company_id: int,
    quantity: int,
    unit_price: Decimal,
    sold_at: datetime,
    actor,
    now: datetime,
) -> StockOperationResult:
    """The rows of a sale from one level, whose units were taken already: the sale and its
    ledger entry, by both paths of ``sell``, and the level's stock events; returned as row records (``record_sale`` turns
    them into model instances for its callers)."""
    db = cursor.db
    sale = _insert_sale(
        cursor,
        company_id=company_id,
        product_id=level.product_id,
        warehouse_id=level.warehouse_id,
        quantity=quantity,
        unit_price=unit_price,
        sold_at=sold_at,
        actor=actor,
        now=now,
    )
    prepared.execute(
        cursor,
        _INSERT_SALE_ENTRY,
        [
            company_id,
            level.id,
            level.product_id,
            level.warehouse_id,
            -quantity,
            level.quantity,
            LedgerReason.SALE.value,
            ReferenceType.SALE.value,
            sale.id,
            sale.created_by_id,
            datetime_param(now, db),
        ],
    )
    entry = _row(
        LedgerEntry,
        id=cursor.fetchone()[0],
        company_id=company_id,
        stock_level_id=level.id,
        product_id=level.product_id,
        warehouse_id=level.warehouse_id,
        change=-quantity,
        quantity_after=level.quantity,
        reason=LedgerReason.SALE.value,
        adjustment_reason="",
        reference_type=ReferenceType.SALE.value,
        reference_id=sale.id,
        actor_id=sale.created_by_id,
        note="",
        created_at=now,
    )
    record_crossings(company_id, [level_move(level, level.quantity + quantity)], at=now)
    return StockOperationResult(sale, [entry])


# --- a bundle -------------------------------------------------------------------------------


def _bundle_changes(bundle: Product, warehouse: Warehouse, quantity: int) -> list[LevelChange]:
    components = bundle_leaf_components(bundle.company_id, bundle.id)
    if not components:
        raise ValidationError({"product_id": ["This bundle has no components to sell."]})
    inactive = list(
        Product.objects.filter(
            company_id=bundle.company_id,
            id__in=[component_id for component_id, _ in components],
            is_active=False,
        ).values_list("id", flat=True)
    )
    if inactive:
        raise ValidationError(
            {"product_id": [f"This bundle contains inactive products: {inactive}."]}
        )
    return [
        LevelChange((component_id, warehouse.id), -units * quantity, LedgerReason.SALE)
        for component_id, units in components
    ]


def _record_bundle_sale(
    bundle: Product,
    warehouse: Warehouse,
    quantity: int,
    unit_price: Decimal,
    sold_at: datetime,
    actor,
    now: datetime,
) -> StockOperationResult:
    changes = _bundle_changes(bundle, warehouse, quantity)

    def write(levels: dict[LevelKey, LockedLevel]) -> StockOperationResult:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            sale = _model(
                _insert_sale(
                    cursor,
                    company_id=bundle.company_id,
                    product_id=bundle.id,
                    warehouse_id=warehouse.id,
                    quantity=quantity,
                    unit_price=unit_price,
                    sold_at=sold_at,
                    actor=actor,
                    now=now,
                )
            )
        entries = apply_changes(
            changes,
            company_id=bundle.company_id,
            reference_type=ReferenceType.SALE,
            reference_id=sale.id,
            actor=actor,
            levels=levels,
        )
        return StockOperationResult(sale, entries)

    return run_locked(bundle.company_id, changes, write)
