"""Writes to the catalog that touch no stock: warehouses, product types, suppliers and
their links to products. Explicit transactions; conflicts answered as 409; row locks from
``stockflow.locking`` (which documents their order).

The writes that also change stock levels (creating a product with its opening stock,
deleting a product or a warehouse with its empty levels, threshold and type changes copied
to the levels, turning a product into a bundle) are ``inventory.catalog_stock``; the bundle
graph is ``catalog.bundle_services``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import IntegrityError, models, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from rest_framework.exceptions import NotFound, ValidationError

from stockflow import locking
from stockflow.api.errors import Conflict, ErrorCode
from stockflow.catalog.models import (
    Product,
    ProductSupplier,
    ProductType,
    SkuRegistration,
    Supplier,
    Warehouse,
)
from stockflow.tenancy.models import Company

# --- shared helpers ---------------------------------------------------------------------


@contextmanager
def conflict_on_integrity_error(explain: Callable[[], Conflict | None]) -> Iterator[None]:
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


def delete_or_conflict(delete: Callable[[], None], conflict: Conflict) -> None:
    """Run a deletion in its own transaction. If a row started to reference the object in
    the meantime, PostgreSQL refuses the commit: answered with ``conflict``, never a 500."""
    try:
        with transaction.atomic():
            delete()
    except IntegrityError:
        raise conflict from None


def apply_changes(instance: models.Model, changes: dict) -> list[str]:
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
    with conflict_on_integrity_error(lambda: _warehouse_code_conflict(company.pk, code)):
        warehouse.save(force_insert=True)
    return warehouse


@transaction.atomic
def update_warehouse(warehouse: Warehouse, **changes) -> Warehouse:
    fields = apply_changes(warehouse, changes)
    if fields:
        with conflict_on_integrity_error(
            lambda: _warehouse_code_conflict(warehouse.company_id, warehouse.code, warehouse.pk)
        ):
            warehouse.save(update_fields=fields)
    return warehouse


# --- product types ------------------------------------------------------------------------


def product_type_name_conflict(company_id: int, name: str, exclude_pk: int | None = None):
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
    with conflict_on_integrity_error(lambda: product_type_name_conflict(company.pk, name)):
        product_type.save(force_insert=True)
    return product_type


def delete_product_type(product_type: ProductType) -> None:
    conflict = Conflict("This product type is used by products; change their type first.")

    def delete() -> None:
        locked = locking.lock_for_update(
            ProductType, product_type.pk, company_id=product_type.company_id
        )
        if locked is None:
            raise NotFound()
        if Product.objects.filter(company_id=locked.company_id, product_type_id=locked.pk).exists():
            raise conflict
        locked.delete()

    delete_or_conflict(delete, conflict)


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
    fields = apply_changes(supplier, changes)
    if fields:
        supplier.save(update_fields=fields)
    return supplier


def delete_supplier(supplier: Supplier) -> None:
    """Delete a supplier and its links to products."""
    conflict = Conflict("The supplier was linked to a product meanwhile; try again.")

    def delete() -> None:
        locked = locking.lock_for_update(Supplier, supplier.pk, company_id=supplier.company_id)
        if locked is None:
            raise NotFound()
        locked.delete()

    delete_or_conflict(delete, conflict)


# --- products -----------------------------------------------------------------------------


def sku_conflict(sku: str, exclude_pk: int | None = None) -> Conflict | None:
    """The 409 for a SKU taken by another product, in any company: read from the platform's
    registry, which every company may read (products of other companies it may not)."""
    if SkuRegistration.objects.filter(sku=sku).exclude(product_id=exclude_pk).exists():
        return Conflict(
            f"A product with SKU {sku!r} already exists.", code=ErrorCode.SKU_CONFLICT, sku=sku
        )
    return None


# --- product suppliers --------------------------------------------------------------------


def _lock_product_supplier_links(company_id: int, product_id: int) -> None:
    """Serialize changes to one product's supplier links (the primary flag) on its row."""
    if locking.lock_for_update(Product, product_id, company_id=company_id, no_key=True) is None:
        raise NotFound()


def _supplier_link_conflict(
    company_id: int, product_id: int, supplier_id: int, exclude_pk: int | None = None
):
    links = ProductSupplier.objects.filter(company_id=company_id, product_id=product_id).exclude(
        pk=exclude_pk
    )
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
    _lock_product_supplier_links(product.company_id, product.pk)
    if not locking.lock_for_share(Supplier, supplier.pk, supplier.company_id):
        raise ValidationError({"supplier_id": [f"Not found: {supplier.pk}."]})
    if is_primary:
        ProductSupplier.objects.filter(
            company_id=product.company_id, product_id=product.pk, is_primary=True
        ).update(is_primary=False)
    link = ProductSupplier(
        company_id=product.company_id,
        product=product,
        supplier=supplier,
        supplier_sku=supplier_sku,
        unit_cost=unit_cost,
        lead_time_days=lead_time_days,
        is_primary=is_primary,
    )
    with conflict_on_integrity_error(
        lambda: _supplier_link_conflict(product.company_id, product.pk, supplier.pk)
    ):
        link.save(force_insert=True)
    return link


@transaction.atomic
def update_supplier_link(link: ProductSupplier, **changes) -> ProductSupplier:
    _lock_product_supplier_links(link.company_id, link.product_id)
    if changes.get("is_primary"):
        ProductSupplier.objects.filter(
            company_id=link.company_id, product_id=link.product_id, is_primary=True
        ).exclude(pk=link.pk).update(is_primary=False)
    fields = apply_changes(link, changes)
    if fields:
        with conflict_on_integrity_error(
            lambda: _supplier_link_conflict(
                link.company_id, link.product_id, link.supplier_id, link.pk
            )
        ):
            link.save(update_fields=fields)
    return link


@transaction.atomic
def unlink_supplier(link: ProductSupplier) -> None:
    ProductSupplier.objects.filter(company_id=link.company_id, pk=link.pk).delete()
