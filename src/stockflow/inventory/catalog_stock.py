"""Catalog writes that change stock levels too, so they live at the inventory layer:

* creating a product with its opening stock level and ``initial`` ledger entry;
* deleting a product or a warehouse together with its empty stock levels;
* a product's threshold or type, or a product type's threshold, copied to the stock levels
  (``inventory.levels``);
* turning a product into a bundle (its empty levels go) and back.

Each runs in one transaction, takes its row locks from ``stockflow.locking`` in the order
documented there (stock levels before the product or warehouse row, before product types),
and answers conflicts as 409 like the rest of the catalog (``catalog.services``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from stockflow import locking
from stockflow.api.errors import Conflict, ErrorCode
from stockflow.bulkinsert import insert_rows
from stockflow.catalog import selectors as catalog_selectors
from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductType,
    SkuRegistration,
    Warehouse,
)
from stockflow.catalog.services import (
    apply_changes,
    conflict_on_integrity_error,
    delete_or_conflict,
    product_type_name_conflict,
    sku_conflict,
)
from stockflow.inventory import levels, selectors
from stockflow.inventory.models import StockLevel
from stockflow.inventory.movements import INITIAL_STOCK_NOTE, record_initial_stocks

HISTORY_MESSAGE = (
    "This {kind} has stock history and cannot be deleted; deactivate it instead "
    "(PATCH is_active=false)."
)


def _has_stock(company_id: int, **level_filter) -> bool:
    return StockLevel.objects.filter(company_id=company_id, quantity__gt=0, **level_filter).exists()


# --- warehouses ---------------------------------------------------------------------------


def _delete_with_empty_levels(
    row: Product | Warehouse,
    *,
    kind: str,
    has_history: Callable[[int], bool],
    check: Callable[[Product | Warehouse], None] | None = None,
) -> None:
    """Delete a product or warehouse (``kind``) with its stock levels, in its own
    transaction, unless stock ever moved there (409 ``has_history``); ``check`` may refuse
    too, once the row and its levels are locked."""
    conflict = Conflict(HISTORY_MESSAGE.format(kind=kind), code=ErrorCode.HAS_HISTORY)
    levels_of = {f"{kind}_id": row.pk}

    def delete() -> None:
        if kind == "product":
            locking.lock_bundle_graph(row.company_id)
        locking.lock_stock_levels_of(row.company_id, **levels_of)
        locked = locking.lock_for_update(type(row), row.pk, company_id=row.company_id)
        if locked is None:
            raise NotFound()
        if has_history(locked.company_id, locked.pk) or _has_stock(row.company_id, **levels_of):
            raise conflict
        if check is not None:
            check(locked)
        StockLevel.objects.filter(company_id=row.company_id, **levels_of).delete()
        locked.delete()

    delete_or_conflict(delete, conflict)


def delete_warehouse(warehouse: Warehouse) -> None:
    """Delete a warehouse that never held stock, with its empty stock levels. One with
    history (ledger entries, sales, movements) is refused with 409 ``has_history``."""
    _delete_with_empty_levels(
        warehouse, kind="warehouse", has_history=selectors.warehouse_has_history
    )


# --- product types ------------------------------------------------------------------------


@transaction.atomic
def update_product_type(product_type: ProductType, **changes) -> ProductType:
    """Change a product type. A new threshold is copied, in the same transaction, to the
    stock levels of the type's products that have no threshold of their own (one UPDATE);
    those levels are locked before the type row."""
    new_threshold = "low_stock_threshold" in changes
    if new_threshold:
        locking.lock_stock_levels_inheriting(product_type.company_id, product_type.pk)
    fields = apply_changes(product_type, changes)
    if fields:
        with conflict_on_integrity_error(
            lambda: product_type_name_conflict(
                product_type.company_id, product_type.name, product_type.pk
            )
        ):
            product_type.save(update_fields=fields)
    if new_threshold:
        levels.copy_type_threshold(product_type)
    return product_type


# --- products -----------------------------------------------------------------------------


@dataclass(slots=True)
class NewProduct:
    """A product to create: its ``fields`` (the columns ``create_product`` takes) and its
    opening stock, units by warehouse, in the order its levels are created."""

    fields: dict
    stock: dict[Warehouse, int]


def create_product(
    *,
    company_id: int,
    name: str,
    sku: str,
    price: Decimal,
    description: str = "",
    product_type: ProductType | None = None,
    low_stock_threshold: int | None = None,
    is_bundle: bool = False,
    warehouse: Warehouse | None = None,
    initial_quantity: int = 0,
    actor=None,
    import_id: int | None = None,
) -> Product:
    """Create a product and, unless it is a bundle, its stock level in ``warehouse`` with the
    ``initial`` ledger entry: all of it in one transaction, or nothing (``create_products``
    of one product).

    A SKU already taken (also by a request that committed while this one ran) is a 409
    ``sku_conflict``: the insert runs in its own savepoint and the unique constraint decides.
    """
    if not is_bundle and warehouse is None:
        raise ValidationError({"warehouse_id": ["This field is required."]})
    fields = {
        "name": name,
        "sku": sku,
        "price": price,
        "description": description,
        "product_type": product_type,
        "low_stock_threshold": low_stock_threshold,
        "is_bundle": is_bundle,
    }
    stock = {} if is_bundle else {warehouse: initial_quantity}
    (product,) = create_products(
        company_id=company_id,
        products=[NewProduct(fields, stock)],
        actor=actor,
        import_id=import_id,
    )
    return product


def _check_product_types(company_id: int, product_types) -> None:
    """400 unless each product type is the company's and still exists; held ``FOR SHARE``
    until commit (``locking`` rule 5)."""
    product_types = {t.pk: t for t in product_types if t is not None}
    held = locking.lock_rows_for_share(
        ProductType,
        company_id,
        [pk for pk, t in product_types.items() if t.company_id == company_id],
    )
    for pk in sorted(product_types):
        if pk not in held:
            raise ValidationError({"product_type_id": [f"Not found: {pk}."]})


@transaction.atomic
def create_products(
    *, company_id: int, products: Sequence[NewProduct], actor=None, import_id: int | None = None
) -> list[Product]:
    """Create products of one company with their opening stock, in one transaction: the
    products in one statement (``bulkinsert``), then every level of their ``stock`` and
    their ``initial`` ledger entries (``movements.record_initial_stocks``). A warehouse
    must be the company's (400) and exist (404), a product type too (400); they are held
    ``FOR SHARE`` until commit.

    A SKU already taken (also by a transaction that committed while this one ran) is a 409
    ``sku_conflict`` naming the first such SKU: the insert runs in its own savepoint and the
    unique constraint decides."""
    warehouses = {w.pk: w for new in products for w in new.stock}
    for warehouse in warehouses.values():
        if warehouse.company_id != company_id:
            raise ValidationError({"warehouse_id": ["Must belong to the product's company."]})
    held = locking.lock_rows_for_share(Warehouse, company_id, warehouses)
    for pk in sorted(warehouses):
        if pk not in held:
            raise NotFound(f"warehouse_id {pk} not found.")
    _check_product_types(company_id, (new.fields.get("product_type") for new in products))

    now = timezone.now()
    rows = [
        Product(company_id=company_id, created_at=now, updated_at=now, **new.fields)
        for new in products
    ]
    skus = [row.sku for row in rows]
    fields = [f.attname for f in Product._meta.concrete_fields if not f.primary_key]
    with conflict_on_integrity_error(lambda: _first_sku_conflict(skus)):
        ids = insert_rows(Product, fields, [[getattr(row, f) for f in fields] for row in rows])
    for row, pk in zip(rows, ids, strict=True):
        row.pk, row._state.adding = pk, False
    record_initial_stocks(
        company_id,
        [
            (row.pk, warehouse.pk, quantity)
            for row, new in zip(rows, products, strict=True)
            for warehouse, quantity in new.stock.items()
        ],
        actor=actor,
        note=INITIAL_STOCK_NOTE,
        import_id=import_id,
    )
    return rows


def _first_sku_conflict(skus: list[str]) -> Conflict | None:
    taken = set(SkuRegistration.objects.filter(sku__in=skus).values_list("sku", flat=True))
    return next((sku_conflict(sku) for sku in skus if sku in taken), None)


def _refuse_if_in_bundles(company_id: int, product_id: int, advice: str) -> None:
    used_in = catalog_selectors.bundles_using(company_id, product_id)
    if used_in:
        raise Conflict(
            f"This product is a component of {', '.join(used_in)}; {advice}", bundles=used_in
        )


def _change_bundle_flag(locked: Product, becomes: bool) -> None:
    """Check that the locked product may become a bundle (``becomes``) or stop being one,
    and drop its (empty) stock levels when it becomes one."""
    if becomes:
        if selectors.product_has_history(locked.company_id, locked.pk) or _has_stock(
            locked.company_id, product_id=locked.pk
        ):
            raise Conflict(
                "This product has stock history; it cannot become a bundle.",
                code=ErrorCode.HAS_HISTORY,
            )
        _refuse_if_in_bundles(
            locked.company_id, locked.pk, "remove it from them before turning it into a bundle."
        )
        StockLevel.objects.filter(company_id=locked.company_id, product_id=locked.pk).delete()
        return
    if BundleComponent.objects.filter(company_id=locked.company_id, bundle_id=locked.pk).exists():
        raise ValidationError(
            {"is_bundle": ["Remove the bundle's components before it stops being one."]}
        )
    if selectors.product_has_history(locked.company_id, locked.pk):
        raise Conflict(
            "This bundle has been sold; it cannot stop being a bundle.",
            code=ErrorCode.HAS_HISTORY,
        )


# What decides a product's threshold (``catalog.thresholds``): a change of either is copied to
# the product's stock levels.
THRESHOLD_FIELDS = frozenset({"low_stock_threshold", "product_type"})


@transaction.atomic
def update_product(product: Product, **changes) -> Product:
    """Change a product's fields. Turning a product into a bundle drops its (empty) stock
    levels and is refused once it has stock history or is a component of a bundle; a bundle
    stops being one only without components and sales. A new threshold or product type is
    copied to the product's stock levels in the same transaction (one UPDATE); they are
    locked before the product row."""
    becomes = changes.get("is_bundle")
    new_threshold = bool(changes.keys() & THRESHOLD_FIELDS)
    if becomes is not None:
        # Decided on the locked row: the flag may have changed since the product was read.
        locking.lock_bundle_graph(product.company_id)
        locking.lock_stock_levels_of(product.company_id, product_id=product.pk)
    elif new_threshold:
        locking.lock_stock_levels_of(product.company_id, product_id=product.pk, no_key=True)
    locked = locking.lock_for_update(
        Product, product.pk, company_id=product.company_id, no_key=True
    )
    if locked is None:
        raise NotFound()

    if becomes is not None and becomes != locked.is_bundle:
        _change_bundle_flag(locked, becomes)

    _check_product_types(locked.company_id, [changes.get("product_type")])

    fields = apply_changes(locked, changes)
    if fields:
        locked.updated_at = timezone.now()
        with conflict_on_integrity_error(lambda: sku_conflict(locked.sku, locked.pk)):
            locked.save(update_fields=[*fields, "updated_at"])
    if new_threshold and not locked.is_bundle:
        levels.copy_product_thresholds(locked.company_id, [locked.pk])
    return locked


@transaction.atomic
def update_products(*, company_id: int, changes: Sequence[tuple[Product, dict]]) -> list[Product]:
    """``update_product`` of many products of one company, each with its changes, none of
    them to the SKU or the bundle flag: the stock levels of the products whose threshold may
    change are locked, then the product rows (each in id order, in one statement), the
    changes written in one UPDATE and the thresholds copied to the levels. A product deleted
    meanwhile is a 404, a product type not the company's a 400.

    A transaction that calls this several times (an import, chunk by chunk) locks the levels
    of all its products first (``stockflow.locking``), so that no call waits for a level
    while it holds product rows."""
    if any(change.keys() & {"sku", "is_bundle"} for _, change in changes):
        raise ValueError("update_products changes neither SKUs nor bundle flags")
    retyped = [product.pk for product, change in changes if change.keys() & THRESHOLD_FIELDS]
    locking.lock_stock_levels_of_products(company_id, retyped)
    locked = locking.lock_rows(Product, company_id, [product.pk for product, _ in changes])
    if any(product.pk not in locked for product, _ in changes):
        raise NotFound()
    _check_product_types(company_id, (change.get("product_type") for _, change in changes))
    now = timezone.now()
    fields = {"updated_at"}
    for product, change in changes:
        row = locked[product.pk]
        fields.update(apply_changes(row, change))
        row.updated_at = now
    Product.objects.bulk_update(list(locked.values()), sorted(fields))
    levels.copy_product_thresholds(company_id, [pk for pk in retyped if not locked[pk].is_bundle])
    return [locked[product.pk] for product, _ in changes]


def delete_product(product: Product) -> None:
    """Delete a product that never moved stock nor was sold, with its empty stock levels,
    its supplier links and (for a bundle) its component lines. A product with history is
    refused with 409 ``has_history``; one used in a bundle with 409 ``conflict``."""
    _delete_with_empty_levels(
        product,
        kind="product",
        has_history=selectors.product_has_history,
        check=lambda locked: _refuse_if_in_bundles(
            locked.company_id, locked.pk, "remove it from them first."
        ),
    )
