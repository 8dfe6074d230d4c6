"""The ORM names the company on its own (``tenancy.keys``): in the joins along a tenant
foreign key, in related objects and rows, prefetches, saves, reloads, bulk updates and
deletes. Each statement is checked with the statement audit's checker."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from stockflow.catalog.models import Product, ProductSupplier
from stockflow.inventory.levels import ensure_stock_levels
from stockflow.inventory.models import StockLevel
from stockflow.tenancy.keys import tenant_tables
from tests.factories import (
    link_supplier,
    make_product,
    make_product_type,
    make_supplier,
    make_warehouse,
    put_stock,
    written_sql,
)
from tests.statements.checker import Checker

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(tenant_a, tenant_b):
    company = tenant_a.company
    kind = make_product_type(company)
    product = make_product(company, product_type=kind)
    level = put_stock(product, make_warehouse(company), 5)
    # another company's rows, which none of the statements below may read
    put_stock(make_product(tenant_b.company), make_warehouse(tenant_b.company), 7)
    return level


def statements(action) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        action()
    sql = [written_sql(query["sql"]) for query in captured.captured_queries]
    assert sql, "the action ran no statement"
    return sql


def assert_by_company(action) -> None:
    checker = Checker(tenant_tables())
    for sql in statements(action):
        if not sql.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            assert checker.check(sql) == [], sql


def test_joins_along_a_tenant_key_equate_the_companies(stock):
    rows = StockLevel.objects.filter(company_id=stock.company_id)
    assert_by_company(lambda: list(rows.select_related("product__product_type", "warehouse")))
    assert_by_company(
        lambda: list(
            Product.objects.filter(company_id=stock.company_id, stock_levels__quantity__gt=0)
        )
    )


def test_related_objects_and_rows_are_read_in_the_company(stock):
    level = StockLevel.objects.get(pk=stock.pk)
    assert_by_company(lambda: level.product)
    product = Product.objects.get(pk=stock.product_id)
    assert_by_company(lambda: list(product.stock_levels.all()))
    assert [row.pk for row in product.stock_levels.all()] == [stock.pk]


def test_prefetches_name_the_companies(stock):
    products = Product.objects.filter(company_id=stock.company_id)
    assert_by_company(
        lambda: list(
            products.prefetch_related(
                Prefetch("stock_levels", queryset=StockLevel.objects.order_by("id")),
                "product_type",
            )
        )
    )
    levels = StockLevel.objects.filter(company_id=stock.company_id)
    assert_by_company(lambda: list(levels.prefetch_related("product")))


def test_saves_reloads_and_bulk_updates_are_by_company(stock):
    level = StockLevel.objects.get(pk=stock.pk)
    level.quantity = 6
    assert_by_company(lambda: level.save(update_fields=["quantity"]))
    assert_by_company(level.refresh_from_db)
    level.quantity = 8
    assert_by_company(lambda: StockLevel.objects.bulk_update([level], ["quantity"]))
    assert StockLevel.objects.get(pk=stock.pk).quantity == 8


def test_deletes_and_their_cascades_are_by_company(stock):
    product = Product.objects.get(pk=stock.product_id)
    link_supplier(product, make_supplier(product.company))
    supplier = ProductSupplier.objects.get(product=product).supplier
    assert_by_company(supplier.delete)  # cascades to the product's supplier link
    assert not ProductSupplier.objects.filter(product=product).exists()
    assert supplier.pk is None
    empty = make_warehouse(product.company)
    ensure_stock_levels(product.company_id, [(product.pk, empty.pk)])
    rows = StockLevel.objects.filter(company_id=product.company_id, warehouse=empty)
    assert_by_company(rows.delete)  # a level without history, looked up in its references
    assert not rows.exists()
    assert StockLevel.objects.count() == 2  # the stocked one, and the other company's
