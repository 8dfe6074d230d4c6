"""The report starts from the partial index of the low stock levels and reads each
candidate's sales with an index range, on both databases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from stockflow.alerts.selectors import low_stock_query
from tests.factories import Shop


@pytest.fixture
def low_and_high(shop: Shop) -> Shop:
    warehouse = shop.warehouse()
    for stock in (1, 50):  # one level below its threshold, one above
        product = shop.product(threshold=10)
        shop.stock(product, warehouse, stock)
        shop.sale(product, warehouse, 3)
    kit = shop.product(bundle=True)
    shop.component(kit, product, 2)
    shop.sale(kit, warehouse, 1)
    return shop


def report_plan(company_id: int) -> str:
    sql, params = low_stock_query(company_id=company_id, now=timezone.now(), limit=100)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The tables are tiny: without this, a sequential scan is cheapest.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_candidates_come_from_the_partial_index(low_and_high: Shop):
    plan = report_plan(low_and_high.company.pk)

    assert "stock_level_low" in plan, plan
    if connection.vendor == "postgresql":
        assert "Index Only Scan using sale_company_product_wh_sold" in plan, plan
    else:
        assert "COVERING INDEX sale_company_product_wh_sold" in plan, plan


@pytest.mark.postgres
def test_report_connections_run_without_jit(db):
    # JIT would compile the report's plan for longer than it runs (see stockflow.dburl).
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
