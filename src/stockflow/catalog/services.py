"""Every write to the catalog: explicit transactions, locks, conflicts answered as 409.

Lock order: the company's bundle graph (its company row) → stock levels (by id) → the
product or warehouse row → product types (``inventory.locking`` rule 5). Stock levels come
before the product and the warehouse because stock operations lock the levels they change
and only reference those rows. Rows that a write only references (the warehouse of a new
product, the supplier of a new link) are held ``FOR SHARE`` until commit, so a concurrent
delete waits and then sees the new reference instead of breaking it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from stockflow.api.errors import Conflict, ErrorCode
from stockflow.catalog import selectors
from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.catalog.selectors import MAX_BUNDLE_DEPTH, BundleGraph
from stockflow.inventory.locking import lock_effective_thresholds, lock_stock_levels_inheriting
from stockflow.inventory.models import StockLevel
from stockflow.inventory.movements import record_initial_stock
from stockflow.tenancy.models import Company

# Units of one stock-holding product that one unit of a bundle may consume, nested bundles
# multiplied out. Keeps the bundle arithmetic far from integer overflow in the database.
MAX_BUNDLE_UNITS = 1_000_000_000

HISTORY_MESSAGE = (
    "This {kind} has stock history and cannot be deleted; deactivate it instead "
    "(PATCH is_active=false)."
)


# --- shared helpers ---------------------------------------------------------------------


@contextmanager
def _conflict_on_integrity_error(explain: Callable[[], Conflict | None]) -> Iterator[None]:
    """Run a write in its own savepoint. When the database refuses it (typically a unique
    constraint hit by a concurrent request), ``explain`` looks at the committed state and
    returns the 409 to answer; an integrity error it cannot explain is raised again."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        conflict = explain()
        if conflict is None:
            raise
        raise conflict from None


def _lock_for_share(model: type[models.Model], pk: int) -> bool:
    """Hold a row that the current write references until commit; False if it is gone.

    PostgreSQL checks foreign keys at commit: without this lock a concurrent delete of the
    row could commit first and make this write fail late. SQLite runs one writer at a time,
    so the row only needs to exist."""
    table = connection.ops.quote_name(model._meta.db_table)
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s{lock}", [pk])
        return cursor.fetchone() is not None


def _lock_stock_levels(*, no_key: bool = False, **filters) -> None:
    list(
        StockLevel.objects.select_for_update(no_key=no_key)
        .filter(**filters)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _lock_bundle_graph(company_id: int) -> None:
    """Serialize every edit of a company's bundle graph (components, ``is_bundle``) on its
    company row, so two concurrent edits cannot each pass the cycle check and together make a
    cycle. FOR NO KEY UPDATE: inserts that merely reference the company are not blocked."""
    list(
        Company.objects.select_for_update(no_key=True)
        .filter(pk=company_id)
        .values_list("pk", flat=True)
    )


def _delete_or_conflict(delete: Callable[[], None], conflict: Conflict) -> None:
    """Run a deletion in its own transaction. If a row started to reference the object in
    the meantime, PostgreSQL refuses the commit: answered with ``conflict``, never a 500."""
    try:
        with transaction.atomic():
            delete()
    except IntegrityError:
        raise conflict from None


def _apply(instance: models.Model, changes: dict) -> list[str]:
    for field, value in changes.items():
        setattr(instance, field, value)
    return list(changes)


# --- warehouses ---------------------------------------------------------------------------


def _warehouse_code_conflict(company_id: int, code: str, exclude_pk: int | None = None):
    taken = Warehouse.objects.filter(company_id=company_id, code=code).exclude(pk=exclude_pk)
    if taken.exists():
        return Conflict(
            f"A warehouse with code {code!r} already exists in this company.", field="code"
        )
    return None


@transaction.atomic
def create_warehouse(
    *, company: Company, name: str, code: str, address: str = "", is_active: bool = True
) -> Warehouse:
    warehouse = Warehouse(
        company=company, name=name, code=code, address=address, is_active=is_active
    )
    with _conflict_on_integrity_error(lambda: _warehouse_code_conflict(company.pk, code)):
        warehouse.save(force_insert=True)
    return warehouse


@transaction.atomic
def update_warehouse(warehouse: Warehouse, **changes) -> Warehouse:
    fields = _apply(warehouse, changes)
    if fields:
        with _conflict_on_integrity_error(
            lambda: _warehouse_code_conflict(warehouse.company_id, warehouse.code, warehouse.pk)
        ):
            warehouse.save(update_fields=fields)
    return warehouse


def delete_warehouse(warehouse: Warehouse) -> None:
    """Delete a warehouse that never held stock, with its empty stock levels. One with
    history (ledger entries, sales, movements) is refused with 409 ``has_history``."""
    conflict = Conflict(HISTORY_MESSAGE.format(kind="warehouse"), code=ErrorCode.HAS_HISTORY)

    def delete() -> None:
        _lock_stock_levels(warehouse_id=warehouse.pk)
        locked = Warehouse.objects.select_for_update().filter(pk=warehouse.pk).first()
        if locked is None:
            raise NotFound()
        if (
            selectors.warehouse_has_history(locked.pk)
            or StockLevel.objects.filter(warehouse_id=locked.pk, quantity__gt=0).exists()
        ):
            raise conflict
        StockLevel.objects.filter(warehouse_id=locked.pk).delete()
        locked.delete()

    _delete_or_conflict(delete, conflict)


# --- product types ------------------------------------------------------------------------


def _product_type_name_conflict(company_id: int, name: str, exclude_pk: int | None = None):
    taken = (
        ProductType.objects.filter(company_id=company_id)
        .exclude(pk=exclude_pk)
        .annotate(lower_name=Lower("name"))
        .filter(lower_name=Lower(Value(name)))
    )
    if taken.exists():
        return Conflict(
            f"A product type named {name!r} already exists in this company.", field="name"
        )
    return None


@transaction.atomic
def create_product_type(
    *, company: Company, name: str, low_stock_threshold: int | None = None
) -> ProductType:
    product_type = ProductType(company=company, name=name, low_stock_threshold=low_stock_threshold)
    with _conflict_on_integrity_error(lambda: _product_type_name_conflict(company.pk, name)):
        product_type.save(force_insert=True)
    return product_type


@transaction.atomic
def update_product_type(product_type: ProductType, **changes) -> ProductType:
    """Change a product type. A new threshold is copied, in the same transaction, to the
    stock levels of the type's products that have no threshold of their own (one UPDATE);
    those levels are locked before the type row (``inventory.locking`` rule 5)."""
    new_threshold = "low_stock_threshold" in changes
    if new_threshold:
        lock_stock_levels_inheriting(product_type.pk)
    fields = _apply(product_type, changes)
    if fields:
        with _conflict_on_integrity_error(
            lambda: _product_type_name_conflict(
                product_type.company_id, product_type.name, product_type.pk
            )
        ):
            product_type.save(update_fields=fields)
    if new_threshold:
        threshold = product_type.low_stock_threshold
        inheriting = Product.objects.filter(
            product_type_id=product_type.pk, low_stock_threshold__isnull=True
        ).values("id")
        StockLevel.objects.filter(product_id__in=inheriting).exclude(
            low_stock_threshold=threshold
        ).update(low_stock_threshold=threshold)
    return product_type


def delete_product_type(product_type: ProductType) -> None:
    conflict = Conflict("This product type is used by products; change their type first.")

    def delete() -> None:
        locked = ProductType.objects.select_for_update().filter(pk=product_type.pk).first()
        if locked is None:
            raise NotFound()
        if Product.objects.filter(product_type_id=locked.pk).exists():
            raise conflict
        locked.delete()

    _delete_or_conflict(delete, conflict)


# --- suppliers ----------------------------------------------------------------------------


@transaction.atomic
def create_supplier(
    *, company: Company, name: str, contact_email: str = "", phone: str = ""
) -> Supplier:
    return Supplier.objects.create(
        company=company, name=name, contact_email=contact_email, phone=phone
    )


@transaction.atomic
def update_supplier(supplier: Supplier, **changes) -> Supplier:
    fields = _apply(supplier, changes)
    if fields:
        supplier.save(update_fields=fields)
    return supplier


def delete_supplier(supplier: Supplier) -> None:
    """Delete a supplier and its links to products."""
    conflict = Conflict("The supplier was linked to a product meanwhile; try again.")

    def delete() -> None:
        locked = Supplier.objects.select_for_update().filter(pk=supplier.pk).first()
        if locked is None:
            raise NotFound()
        locked.delete()

    _delete_or_conflict(delete, conflict)


# --- products -----------------------------------------------------------------------------


def _sku_conflict(sku: str, exclude_pk: int | None = None) -> Conflict | None:
    if Product.objects.filter(sku=sku).exclude(pk=exclude_pk).exists():
        return Conflict(
            f"A product with SKU {sku!r} already exists.", code=ErrorCode.SKU_CONFLICT, sku=sku
        )
    return None


@transaction.atomic
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
) -> Product:
    """Create a product and, unless it is a bundle, its stock level in ``warehouse`` with the
    ``initial`` ledger entry: all of it in one transaction, or nothing.

    A SKU already taken (also by a request that committed while this one ran) is a 409
    ``sku_conflict``: the insert runs in its own savepoint and the unique constraint decides.
    """
    if not is_bundle:
        if warehouse is None:
            raise ValidationError({"warehouse_id": ["This field is required."]})
        if warehouse.company_id != company_id:
            raise ValidationError({"warehouse_id": ["Must belong to the product's company."]})
        if not _lock_for_share(Warehouse, warehouse.pk):
            raise NotFound(f"warehouse_id {warehouse.pk} not found.")
    if product_type is not None and (
        product_type.company_id != company_id or not _lock_for_share(ProductType, product_type.pk)
    ):
        raise ValidationError({"product_type_id": [f"Not found: {product_type.pk}."]})

    now = timezone.now()
    product = Product(
        company_id=company_id,
        name=name,
        sku=sku,
        description=description,
        price=price,
        product_type=product_type,
        low_stock_threshold=low_stock_threshold,
        is_bundle=is_bundle,
        created_at=now,
        updated_at=now,
    )
    with _conflict_on_integrity_error(lambda: _sku_conflict(sku)):
        product.save(force_insert=True)
    if not is_bundle:
        record_initial_stock(
            product=product,
            warehouse=warehouse,
            quantity=initial_quantity,
            actor=actor,
            note="Stock at product creation",
        )
    return product


def _bundles_using(product_id: int) -> list[str]:
    """SKUs of the bundles that have the product as a direct component."""
    return list(
        Product.objects.filter(components__component_id=product_id)
        .order_by("sku")
        .values_list("sku", flat=True)
    )


@transaction.atomic
def update_product(product: Product, **changes) -> Product:
    """Change a product's fields. Turning a product into a bundle drops its (empty) stock
    levels and is refused once it has stock history or is a component of a bundle; a bundle
    stops being one only without components and sales. A new threshold or product type is
    copied to the product's stock levels in the same transaction (one UPDATE); they are
    locked before the product row (``inventory.locking`` rule 5)."""
    becomes = changes.get("is_bundle")
    new_threshold = "low_stock_threshold" in changes or "product_type" in changes
    if becomes is not None:
        # Decided on the locked row: the flag may have changed since the product was read.
        _lock_bundle_graph(product.company_id)
        _lock_stock_levels(product_id=product.pk)
    elif new_threshold:
        _lock_stock_levels(product_id=product.pk, no_key=True)
    locked = Product.objects.select_for_update(no_key=True).filter(pk=product.pk).first()
    if locked is None:
        raise NotFound()

    if becomes is not None and becomes != locked.is_bundle:
        if becomes:
            if (
                selectors.product_has_history(locked.pk)
                or StockLevel.objects.filter(product_id=locked.pk, quantity__gt=0).exists()
            ):
                raise Conflict(
                    "This product has stock history; it cannot become a bundle.",
                    code=ErrorCode.HAS_HISTORY,
                )
            used_in = _bundles_using(locked.pk)
            if used_in:
                raise Conflict(
                    f"This product is a component of {', '.join(used_in)}; remove it from "
                    "them before turning it into a bundle.",
                    bundles=used_in,
                )
            StockLevel.objects.filter(product_id=locked.pk).delete()
        else:
            if BundleComponent.objects.filter(bundle_id=locked.pk).exists():
                raise ValidationError(
                    {"is_bundle": ["Remove the bundle's components before it stops being one."]}
                )
            if selectors.product_has_history(locked.pk):
                raise Conflict(
                    "This bundle has been sold; it cannot stop being a bundle.",
                    code=ErrorCode.HAS_HISTORY,
                )

    product_type = changes.get("product_type")
    if product_type is not None and (
        product_type.company_id != locked.company_id
        or not _lock_for_share(ProductType, product_type.pk)
    ):
        raise ValidationError({"product_type_id": [f"Not found: {product_type.pk}."]})

    fields = _apply(locked, changes)
    if fields:
        locked.updated_at = timezone.now()
        with _conflict_on_integrity_error(lambda: _sku_conflict(locked.sku, locked.pk)):
            locked.save(update_fields=[*fields, "updated_at"])
    if new_threshold and not locked.is_bundle:
        threshold = lock_effective_thresholds([locked.pk]).get(locked.pk)
        StockLevel.objects.filter(product_id=locked.pk).exclude(
            low_stock_threshold=threshold
        ).update(low_stock_threshold=threshold)
    return locked


def delete_product(product: Product) -> None:
    """Delete a product that never moved stock nor was sold, with its empty stock levels,
    its supplier links and (for a bundle) its component lines. A product with history is
    refused with 409 ``has_history``; one used in a bundle with 409 ``conflict``."""
    conflict = Conflict(HISTORY_MESSAGE.format(kind="product"), code=ErrorCode.HAS_HISTORY)

    def delete() -> None:
        _lock_bundle_graph(product.company_id)
        _lock_stock_levels(product_id=product.pk)
        locked = Product.objects.select_for_update().filter(pk=product.pk).first()
        if locked is None:
            raise NotFound()
        if (
            selectors.product_has_history(locked.pk)
            or StockLevel.objects.filter(product_id=locked.pk, quantity__gt=0).exists()
        ):
            raise conflict
        used_in = _bundles_using(locked.pk)
        if used_in:
            raise Conflict(
                f"This product is a component of {', '.join(used_in)}; remove it from them first.",
                bundles=used_in,
            )
        StockLevel.objects.filter(product_id=locked.pk).delete()
        locked.delete()

    _delete_or_conflict(delete, conflict)


# --- product suppliers --------------------------------------------------------------------


def _lock_product_supplier_links(product_id: int) -> None:
    """Serialize changes to one product's supplier links (the primary flag) on its row."""
    found = list(
        Product.objects.select_for_update(no_key=True)
        .filter(pk=product_id)
        .values_list("pk", flat=True)
    )
    if not found:
        raise NotFound()


def _supplier_link_conflict(product_id: int, supplier_id: int, exclude_pk: int | None = None):
    links = ProductSupplier.objects.filter(product_id=product_id).exclude(pk=exclude_pk)
    if links.filter(supplier_id=supplier_id).exists():
        return Conflict("This supplier is already linked to the product.", field="supplier_id")
    if links.filter(is_primary=True).exists():
        return Conflict(
            "Another primary supplier was set for this product at the same time; try again.",
            field="is_primary",
        )
    return None


@transaction.atomic
def link_supplier(
    *,
    product: Product,
    supplier: Supplier,
    supplier_sku: str = "",
    unit_cost: Decimal | None = None,
    lead_time_days: int = 7,
    is_primary: bool = False,
) -> ProductSupplier:
    """Link a supplier to a product. Making the link primary unsets the product's other
    primary link in the same transaction (at most one primary per product)."""
    if supplier.company_id != product.company_id:
        raise ValidationError({"supplier_id": ["Must belong to the same company as the product."]})
    _lock_product_supplier_links(product.pk)
    if not _lock_for_share(Supplier, supplier.pk):
        raise ValidationError({"supplier_id": [f"Not found: {supplier.pk}."]})
    if is_primary:
        ProductSupplier.objects.filter(product_id=product.pk, is_primary=True).update(
            is_primary=False
        )
    link = ProductSupplier(
        company_id=product.company_id,
        product=product,
        supplier=supplier,
        supplier_sku=supplier_sku,
        unit_cost=unit_cost,
        lead_time_days=lead_time_days,
        is_primary=is_primary,
    )
    with _conflict_on_integrity_error(lambda: _supplier_link_conflict(product.pk, supplier.pk)):
        link.save(force_insert=True)
    return link


@transaction.atomic
def update_supplier_link(link: ProductSupplier, **changes) -> ProductSupplier:
    _lock_product_supplier_links(link.product_id)
    if changes.get("is_primary"):
        ProductSupplier.objects.filter(product_id=link.product_id, is_primary=True).exclude(
            pk=link.pk
        ).update(is_primary=False)
    fields = _apply(link, changes)
    if fields:
        with _conflict_on_integrity_error(
            lambda: _supplier_link_conflict(link.product_id, link.supplier_id, link.pk)
        ):
            link.save(update_fields=fields)
    return link


@transaction.atomic
def unlink_supplier(link: ProductSupplier) -> None:
    ProductSupplier.objects.filter(pk=link.pk).delete()


# --- bundles ------------------------------------------------------------------------------


def _find_path(graph: BundleGraph, start: int, goal: int) -> list[int] | None:
    """A path start → … → goal along component edges, or None."""
    parents: dict[int, int | None] = {start: None}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            path = [node]
            while parents[path[-1]] is not None:
                path.append(parents[path[-1]])
            return path[::-1]
        for child in graph.get(node, {}):
            if child not in parents:
                parents[child] = node
                stack.append(child)
    return None


def _check_bundle_graph(graph: BundleGraph, bundle_id: int, component_id: int) -> None:
    """Check the company's bundle graph once the edge bundle → component is in it:
    no cycle, nesting within ``MAX_BUNDLE_DEPTH``, at most ``MAX_BUNDLE_UNITS`` units of
    any product per bundle. ``graph`` is the whole graph of the company, read under its
    lock. Raises a 400 naming the offending field."""
    cycle = _find_path(graph, component_id, bundle_id)
    if cycle is not None:
        skus = selectors.skus_by_id([bundle_id, *cycle])
        chain = " → ".join(skus[pk] for pk in [bundle_id, *cycle])
        raise ValidationError({"component_id": [f"This would make a cycle: {chain}."]})

    parents: dict[int, list[int]] = {}
    for parent, children in graph.items():
        for child in children:
            parents.setdefault(child, []).append(parent)

    @cache
    def levels_below(node: int) -> int:
        return max((1 + levels_below(child) for child in graph.get(node, {})), default=0)

    @cache
    def levels_above(node: int) -> int:
        return max((1 + levels_above(parent) for parent in parents.get(node, [])), default=0)

    depth = levels_above(bundle_id) + 1 + levels_below(component_id)
    if depth > MAX_BUNDLE_DEPTH:
        raise ValidationError(
            {
                "component_id": [
                    f"Bundles may nest at most {MAX_BUNDLE_DEPTH} levels deep; "
                    f"this would make {depth}."
                ]
            }
        )

    @cache
    def units(node: int) -> dict[int, int]:
        if not graph.get(node):
            return {node: 1}
        total: dict[int, int] = {}
        for child, quantity in graph[node].items():
            for leaf, count in units(child).items():
                total[leaf] = total.get(leaf, 0) + quantity * count
        return total

    affected = {bundle_id}
    stack = [bundle_id]
    while stack:
        for parent in parents.get(stack.pop(), []):
            if parent not in affected:
                affected.add(parent)
                stack.append(parent)
    for root in affected:
        if max(units(root).values(), default=0) > MAX_BUNDLE_UNITS:
            raise ValidationError(
                {
                    "quantity": [
                        f"A bundle may consume at most {MAX_BUNDLE_UNITS} units of one product, "
                        "nested bundles multiplied out."
                    ]
                }
            )


def _duplicate_line() -> Conflict:
    return Conflict(
        "This product is already a component of the bundle; change its quantity instead.",
        field="component_id",
    )


def _bundle_line_conflict(bundle_id: int, component_id: int) -> Conflict | None:
    if BundleComponent.objects.filter(bundle_id=bundle_id, component_id=component_id).exists():
        return _duplicate_line()
    return None


@transaction.atomic
def add_bundle_component(*, bundle: Product, component: Product, quantity: int) -> BundleComponent:
    """Add ``quantity`` units of ``component`` to ``bundle``, under the company's bundle-graph
    lock: same company, ``bundle`` is a bundle, no self-reference, no cycle at any depth."""
    _lock_bundle_graph(bundle.company_id)
    fresh = Product.objects.in_bulk([bundle.pk, component.pk])
    if bundle.pk not in fresh:
        raise NotFound(f"bundle_id {bundle.pk} not found.")
    if component.pk not in fresh:
        raise ValidationError({"component_id": [f"Not found: {component.pk}."]})
    bundle, component = fresh[bundle.pk], fresh[component.pk]

    if not bundle.is_bundle:
        raise ValidationError(
            {"bundle_id": ["Components can only be added to a product with is_bundle=true."]}
        )
    if component.company_id != bundle.company_id:
        raise ValidationError({"component_id": ["Must belong to the same company as the bundle."]})
    if component.pk == bundle.pk:
        raise ValidationError({"component_id": ["A bundle cannot contain itself."]})
    if not component.is_active:
        raise ValidationError({"component_id": ["This product is inactive."]})

    graph = selectors.company_bundle_graph(bundle.company_id)
    if component.pk in graph[bundle.pk]:
        raise _duplicate_line()
    graph[bundle.pk][component.pk] = quantity
    _check_bundle_graph(graph, bundle.pk, component.pk)

    line = BundleComponent(
        company_id=bundle.company_id, bundle=bundle, component=component, quantity=quantity
    )
    with _conflict_on_integrity_error(lambda: _bundle_line_conflict(bundle.pk, component.pk)):
        line.save(force_insert=True)
    return line


@transaction.atomic
def update_bundle_component(line: BundleComponent, *, quantity: int) -> BundleComponent:
    _lock_bundle_graph(line.company_id)
    graph = selectors.company_bundle_graph(line.company_id)
    if line.component_id not in graph.get(line.bundle_id, {}):
        raise NotFound()
    graph[line.bundle_id][line.component_id] = quantity
    _check_bundle_graph(graph, line.bundle_id, line.component_id)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    return line


@transaction.atomic
def remove_bundle_component(line: BundleComponent) -> None:
    _lock_bundle_graph(line.company_id)
    BundleComponent.objects.filter(pk=line.pk).delete()
