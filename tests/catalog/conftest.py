"""Builders and checks for catalog tests."""

from __future__ import annotations

import json
from decimal import Decimal
from itertools import count

import pytest

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
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel
from stockflow.inventory.movements import record_initial_stock
from stockflow.tenancy.models import Company

_seq = count(1)


def make_warehouse(company: Company, code: str | None = None, **extra) -> Warehouse:
    return services.create_warehouse(
        company=company,
        name=extra.pop("name", "Main"),
        code=code or f"WH{next(_seq)}",
        **extra,
    )


def make_product_type(company: Company, name: str | None = None, **extra) -> ProductType:
    return services.create_product_type(company=company, name=name or f"Type {next(_seq)}", **extra)


def make_supplier(company: Company, name: str | None = None, **extra) -> Supplier:
    return services.create_supplier(company=company, name=name or f"Supplier {next(_seq)}", **extra)


def make_product(
    company: Company,
    sku: str | None = None,
    *,
    warehouse: Warehouse | None = None,
    quantity: int = 0,
    price: str = "10.00",
    is_bundle: bool = False,
    **extra,
) -> Product:
    if warehouse is None and not is_bundle:
        warehouse = make_warehouse(company)
    return catalog_stock.create_product(
        company_id=company.pk,
        name=extra.pop("name", "Widget"),
        sku=sku or f"SKU-{next(_seq)}",
        price=Decimal(price),
        warehouse=warehouse,
        initial_quantity=quantity,
        is_bundle=is_bundle,
        **extra,
    )


def make_bundle(company: Company, sku: str | None = None, **extra) -> Product:
    return make_product(company, sku, is_bundle=True, **extra)


def add_component(bundle: Product, component: Product, quantity: int = 1) -> BundleComponent:
    return bundle_services.add_bundle_component(
        bundle=bundle, component=component, quantity=quantity
    )


def stock_in(product: Product, warehouse: Warehouse, quantity: int):
    """A stock level in another warehouse, as stock operations would create it."""
    return record_initial_stock(product=product, warehouse=warehouse, quantity=quantity)


def record_sale(product: Product, warehouse: Warehouse, quantity: int = 1) -> Sale:
    return Sale.objects.create(
        company_id=product.company_id,
        product=product,
        warehouse=warehouse,
        quantity=quantity,
        unit_price=product.price,
    )


def catalog_state() -> dict:
    """What a refused write must leave untouched: row counts and every product's fields."""
    return {
        "products": list(
            Product.objects.order_by("pk").values(
                "pk", "sku", "name", "price", "is_bundle", "is_active", "product_type_id"
            )
        ),
        "stock_levels": list(StockLevel.objects.order_by("pk").values_list("pk", "quantity")),
        "ledger_entries": LedgerEntry.objects.count(),
        "warehouses": list(Warehouse.objects.order_by("pk").values()),
        "product_types": list(ProductType.objects.order_by("pk").values()),
        "suppliers": list(Supplier.objects.order_by("pk").values()),
        "product_suppliers": list(ProductSupplier.objects.order_by("pk").values()),
        "bundle_components": list(BundleComponent.objects.order_by("pk").values()),
    }


def post_raw(client, url: str, text: str, **extra):
    """POST a JSON body exactly as written, so numbers go through the real JSON parser."""
    return client.post(url, data=text, content_type="application/json", **extra)


def patch_raw(client, url: str, text: str):
    return client.patch(url, data=text, content_type="application/json")


def as_json(payload: dict) -> str:
    return json.dumps(payload)


@pytest.fixture
def warehouse_a(tenant_a) -> Warehouse:
    return make_warehouse(tenant_a.company, "MAIN", name="Main Warehouse")


@pytest.fixture
def warehouse_b(tenant_b) -> Warehouse:
    return make_warehouse(tenant_b.company, "MAIN", name="Globex Main")
