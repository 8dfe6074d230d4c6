"""Catalog rows, made through the services the API calls (a product and its opening stock:
``inventory.catalog_stock``)."""

from __future__ import annotations

from decimal import Decimal

from stockflow.catalog import bundle_services, services
from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.inventory import catalog_stock
from stockflow.tenancy.models import Company
from tests.factories.sequence import next_number


def make_warehouse(
    company: Company, code: str | None = None, *, name: str | None = None, **extra
) -> Warehouse:
    code = code or f"WH{next_number()}"
    return services.create_warehouse(
        company=company, name=name or f"Warehouse {code}", code=code, **extra
    )


def make_product_type(company: Company, name: str | None = None, **extra) -> ProductType:
    return services.create_product_type(
        company=company, name=name or f"Type {next_number()}", **extra
    )


def make_supplier(company: Company, name: str | None = None, **extra) -> Supplier:
    return services.create_supplier(
        company=company, name=name or f"Supplier {next_number()}", **extra
    )


def make_product(
    company: Company,
    sku: str | None = None,
    *,
    warehouse: Warehouse | None = None,
    quantity: int = 0,
    price: str = "10.00",
    name: str | None = None,
    is_bundle: bool = False,
    is_active: bool = True,
    **extra,
) -> Product:
    """A product stocked with ``quantity`` units in ``warehouse`` (its stock level and
    ``initial`` ledger entry), or a bundle, through ``create_product``.

    Without a warehouse, a product that is stocked nowhere yet: the service always stocks a
    new product, so this one row is inserted directly, as an import would (its stock levels
    come later, from ``put_stock`` or the stock operations)."""
    sku = sku or f"SKU-{next_number()}"
    fields = {"name": name or f"Product {sku}", "sku": sku, "price": Decimal(price), **extra}
    if warehouse is None and not is_bundle:
        assert not quantity, "units need a warehouse"
        return Product.objects.create(company=company, is_active=is_active, **fields)
    product = catalog_stock.create_product(
        company_id=company.pk,
        warehouse=warehouse,
        initial_quantity=quantity,
        is_bundle=is_bundle,
        **fields,
    )
    if not is_active:
        product = catalog_stock.update_product(product, is_active=False)
    return product


def make_bundle(
    company: Company,
    sku: str | None = None,
    *,
    components: list[tuple[Product, int]] = (),
    **extra,
) -> Product:
    """A bundle of ``(component, units per bundle)`` lines."""
    bundle = make_product(company, sku, is_bundle=True, **extra)
    for component, quantity in components:
        add_component(bundle, component, quantity)
    return bundle


def add_component(bundle: Product, component: Product, quantity: int = 1) -> BundleComponent:
    return bundle_services.add_bundle_component(
        bundle=bundle, component=component, quantity=quantity
    )


def link_supplier(
    product: Product, supplier: Supplier, *, unit_cost: str | None = None, **extra
) -> ProductSupplier:
    return services.link_supplier(
        product=product,
        supplier=supplier,
        unit_cost=None if unit_cost is None else Decimal(unit_cost),
        **extra,
    )
