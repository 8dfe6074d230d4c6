"""The effective low-stock threshold is defined once (``catalog.thresholds``): its SQL and its
Python renderings agree on every combination, and every place that keeps or shows the
threshold gives that answer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockflow.catalog.models import Product, ProductType, Warehouse
from stockflow.catalog.thresholds import (
    effective_threshold,
    effective_threshold_sql,
    product_threshold,
    product_type_join_sql,
)
from stockflow.inventory.levels import ensure_stock_levels, lock_effective_thresholds
from stockflow.inventory.models import StockLevel
from stockflow.inventory.selectors import stock_invariant_violations
from stockflow.tenancy.models import Company
from tests.rollback import rolled_back

pytestmark = pytest.mark.django_db

threshold = st.none() | st.integers(min_value=0, max_value=1_000_000_000)
# Each product: its own threshold and which of three types it has (None: no type).
products = st.lists(
    st.tuples(threshold, st.none() | st.integers(min_value=0, max_value=2)),
    min_size=1,
    max_size=8,
)
type_thresholds = st.tuples(threshold, threshold, threshold)


def sql_thresholds(product_ids: list[int]) -> dict[int, int | None]:
    placeholders = ", ".join(["%s"] * len(product_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id, {effective_threshold_sql('p', 't')}"
            f" FROM {Product._meta.db_table} p {product_type_join_sql('p', 't')}"
            f" WHERE p.id IN ({placeholders})",
            product_ids,
        )
        return dict(cursor.fetchall())


def test_the_rule():
    assert effective_threshold(5, 9) == 5
    assert effective_threshold(0, 9) == 0  # zero is a threshold, not "unset"
    assert effective_threshold(None, 9) == 9
    assert effective_threshold(None, None) is None
    assert (
        effective_threshold_sql("p", "t")
        == "COALESCE(p.low_stock_threshold, t.low_stock_threshold)"
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(products=products, type_thresholds=type_thresholds)
def test_sql_python_and_the_kept_copies_agree(products, type_thresholds):
    def check() -> None:
        company = Company.objects.create(name="Thresholds")
        warehouse = Warehouse.objects.create(company=company, name="Main", code="MAIN")
        types = [
            ProductType.objects.create(company=company, name=f"T{i}", low_stock_threshold=t)
            for i, t in enumerate(type_thresholds)
        ]
        created = [
            Product.objects.create(
                company=company,
                name="P",
                sku=f"THR-{index}",
                price=Decimal("1.00"),
                low_stock_threshold=own,
                product_type=None if kind is None else types[kind],
            )
            for index, (own, kind) in enumerate(products)
        ]
        expected = {
            product.pk: effective_threshold(own, None if kind is None else type_thresholds[kind])
            for product, (own, kind) in zip(created, products, strict=True)
        }
        ids = list(expected)

        assert sql_thresholds(ids) == expected
        assert {p.pk: product_threshold(p) for p in created} == expected
        assert lock_effective_thresholds(warehouse.company_id, ids) == expected

        ensure_stock_levels(warehouse.company_id, ((pk, warehouse.pk) for pk in ids))
        copies = dict(
            StockLevel.objects.filter(product_id__in=ids).values_list(
                "product_id", "low_stock_threshold"
            )
        )
        assert copies == expected
        threshold_check = next(c for c in stock_invariant_violations() if c.name == "threshold")
        assert threshold_check.violations == 0

    rolled_back(check)


def test_verify_stock_finds_a_copy_that_differs_from_the_rule(tenant_a):
    company = tenant_a.company
    warehouse = Warehouse.objects.create(company=company, name="Main", code="MAIN")
    kind = ProductType.objects.create(company=company, name="Kind", low_stock_threshold=7)
    product = Product.objects.create(
        company=company, name="P", sku="THR-X", price=Decimal("1.00"), product_type=kind
    )
    ensure_stock_levels(company.pk, [(product.pk, warehouse.pk)])
    StockLevel.objects.filter(product=product).update(low_stock_threshold=None)

    threshold_check = next(c for c in stock_invariant_violations() if c.name == "threshold")

    assert threshold_check.violations == 1
    assert threshold_check.samples[0]["effective_threshold"] == 7
