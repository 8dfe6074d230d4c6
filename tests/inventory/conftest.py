"""Builders for inventory tests: warehouses, products, bundles and their initial stock, made
with the ORM and ``record_initial_stock`` (the catalog API is not needed here)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection

from stockflow.catalog.models import BundleComponent, Product, ProductType, Warehouse
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel, StockMovement
from stockflow.inventory.movements import record_initial_stock
from stockflow.tenancy.models import Company

_seq = count(1)


def make_warehouse(company: Company, code: str | None = None, **extra) -> Warehouse:
    code = code or f"WH{next(_seq)}"
    return Warehouse.objects.create(company=company, code=code, name=f"Warehouse {code}", **extra)


def make_product(
    company: Company, sku: str | None = None, price: str = "10.00", **extra
) -> Product:
    sku = sku or f"SKU-{next(_seq)}"
    return Product.objects.create(
        company=company, sku=sku, name=f"Product {sku}", price=Decimal(price), **extra
    )


def make_bundle(company: Company, components: list[tuple[Product, int]], **extra) -> Product:
    bundle = make_product(company, is_bundle=True, **extra)
    for component, quantity in components:
        BundleComponent.objects.create(
            company=company, bundle=bundle, component=component, quantity=quantity
        )
    return bundle


def put_stock(product: Product, warehouse: Warehouse, quantity: int) -> StockLevel:
    return record_initial_stock(product=product, warehouse=warehouse, quantity=quantity)


def quantity_of(product: Product, warehouse: Warehouse) -> int | None:
    return (
        StockLevel.objects.filter(product=product, warehouse=warehouse)
        .values_list("quantity", flat=True)
        .first()
    )


def db_state() -> dict:
    """Everything a stock operation may write; compare before and after a refused request."""
    return {
        "levels": sorted(StockLevel.objects.values_list("id", "quantity")),
        "ledger": LedgerEntry.objects.count(),
        "sales": Sale.objects.count(),
        "movements": StockMovement.objects.count(),
    }


@dataclass
class Shop:
    """One company's stock: two warehouses, a mug (100 in main), coffee (50 in main), a gift
    box bundle (1 mug + 2 coffee), an empty warehouse."""

    company: Company
    main: Warehouse
    backup: Warehouse
    mug: Product
    coffee: Product
    gift_box: Product


@pytest.fixture
def shop(tenant_a) -> Shop:
    company = tenant_a.company
    main = make_warehouse(company, "MAIN")
    backup = make_warehouse(company, "BACKUP")
    kind = ProductType.objects.create(company=company, name="Kitchen", low_stock_threshold=20)
    mug = make_product(company, "MUG", price="12.50", product_type=kind)
    coffee = make_product(company, "COFFEE", price="7.00", low_stock_threshold=60)
    gift_box = make_bundle(company, [(mug, 1), (coffee, 2)], sku="GIFT", price="25.00")
    put_stock(mug, main, 100)
    put_stock(coffee, main, 50)
    return Shop(company, main, backup, mug, coffee, gift_box)


@pytest.fixture
def other_shop(tenant_b) -> Shop:
    company = tenant_b.company
    main = make_warehouse(company, "MAIN")
    backup = make_warehouse(company, "BACKUP")
    mug = make_product(company, "B-MUG")
    coffee = make_product(company, "B-COFFEE")
    gift_box = make_bundle(company, [(mug, 1), (coffee, 1)], sku="B-GIFT")
    put_stock(mug, main, 10)
    put_stock(coffee, main, 10)
    return Shop(company, main, backup, mug, coffee, gift_box)


def run_concurrently(functions: list, timeout: float = 60) -> list:
    """Run each function in its own thread, released together by a barrier; return their
    results in order (an exception raised in a thread is re-raised here). Each thread closes
    its database connection at the end."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)
    errors: list = []

    def worker(index: int, function) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = function()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, function), daemon=True)
        for index, function in enumerate(functions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results
