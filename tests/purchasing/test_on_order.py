"""What is on order, in the low-stock report and the stock-level reads, and the suggested
reorder quantity of SPEC §4.1 that accounts for it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stockflow.catalog.models import ProductSupplier
from stockflow.purchasing.services import cancel_order, close_order
from tests.factories.purchasing import draft, placed, receive

pytestmark = pytest.mark.django_db


def only_alert(body: dict) -> dict:
    assert body["total_alerts"] == 1, body
    return body["alerts"][0]


@pytest.fixture
def low(shop):
    """The demo's case: 0 in stock, threshold 60, 1 unit sold in 30 days, a supplier with a
    lead time of 7 days."""
    warehouse = shop.warehouse()
    product = shop.product("Slow mover", threshold=60)
    supplier = shop.supplier()
    shop.supply(product, supplier, lead_time_days=7, primary=True)
    shop.stock(product, warehouse, 1)
    shop.sale(product, warehouse, 1)
    from stockflow.inventory.movements import adjust_stock

    adjust_stock(product=product, warehouse=warehouse, reason="correction", change=-1)
    return warehouse, product, supplier


def test_the_suggestion_ends_above_the_threshold(low, fetch_report):
    alert = only_alert(fetch_report())
    assert (alert["current_stock"], alert["threshold"], alert["units_sold"]) == (0, 60, 1)
    # S = 60 + 1/30 × (7 + 30) = 61.23…: 62 units, not 1
    assert alert["suggested_reorder_quantity"] == 62
    assert alert["stockout_before_delivery"] is True  # out already, delivery in 7 days
    assert (alert["on_order"], alert["on_draft"], alert["next_expected_date"]) == (0, 0, None)


def test_cover_days(low, fetch_report):
    assert only_alert(fetch_report(cover_days=0))["suggested_reorder_quantity"] == 61  # 60 + 7/30
    assert (
        only_alert(fetch_report(cover_days=365))["suggested_reorder_quantity"] == 73
    )  # 60 + 372/30


def test_orders_on_the_way_and_drafts_are_not_suggested_twice(shop, low, fetch_report):
    warehouse, product, supplier = low
    expected = timezone.now().date() + timedelta(days=5)
    order = placed(supplier, warehouse, (product, 40), expected_date=expected)
    alert = only_alert(fetch_report())
    assert (alert["on_order"], alert["next_expected_date"]) == (40, expected.isoformat())
    assert alert["suggested_reorder_quantity"] == 22

    draft(supplier, warehouse, (product, 15))
    alert = only_alert(fetch_report())
    assert (alert["on_order"], alert["on_draft"]) == (40, 15)
    assert alert["suggested_reorder_quantity"] == 7

    # What is received is in stock, no longer on order; the report drops a level back at
    # its threshold.
    receive(order, {product: 30})
    alert = only_alert(fetch_report())
    assert (alert["current_stock"], alert["on_order"]) == (30, 10)
    assert alert["suggested_reorder_quantity"] == 7

    # A closed order's rest is given up: no longer on order.
    close_order(order)
    assert only_alert(fetch_report())["on_order"] == 0


def test_an_order_covering_the_need_suggests_nothing(low, fetch_report):
    warehouse, product, supplier = low
    placed(supplier, warehouse, (product, 100))
    assert only_alert(fetch_report())["suggested_reorder_quantity"] == 0


def test_only_orders_to_that_warehouse_and_not_cancelled(shop, low, fetch_report):
    warehouse, product, supplier = low
    placed(supplier, shop.warehouse("Elsewhere"), (product, 100))
    cancel_order(draft(supplier, warehouse, (product, 100)))
    alert = only_alert(fetch_report())
    assert (alert["on_order"], alert["on_draft"]) == (0, 0)


def test_without_supplier_the_lead_time_is_zero(shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.stock(product, warehouse, 4)
    shop.sale(product, warehouse, 30)
    alert = only_alert(fetch_report())
    assert alert["supplier"] is None
    assert alert["suggested_reorder_quantity"] == 36  # 10 + 30 × 1 − 4
    assert alert["stockout_before_delivery"] is False


def test_the_observed_lead_time_replaces_the_configured_one_from_3_orders(low, fetch_report):
    _warehouse, product, supplier = low
    link = ProductSupplier.objects.get(product=product, supplier=supplier)
    link.observed_lead_time_days, link.observed_orders = 37, 2
    link.save()
    assert only_alert(fetch_report())["lead_time_days"] == 7
    link.observed_orders = 3
    link.save()
    alert = only_alert(fetch_report())
    assert alert["lead_time_days"] == 37
    assert alert["suggested_reorder_quantity"] == 63  # 60 + 67/30


def test_the_report_stays_one_query(shop, low, fetch_report, django_assert_max_num_queries):
    warehouse, product, supplier = low
    for n in range(5):
        other = shop.product(f"P{n}", threshold=50)
        shop.supply(other, supplier)
        shop.stock(other, warehouse, 1)
        shop.sale(other, warehouse, 2)
        placed(supplier, warehouse, (other, 3), (product, 1))
        draft(supplier, warehouse, (other, 1))
    with django_assert_max_num_queries(2):  # the token, the report
        assert fetch_report()["total_alerts"] == 6


def test_stock_levels_show_what_is_on_order(tenant_a, shop, low, django_assert_max_num_queries):
    warehouse, product, supplier = low
    expected = timezone.now().date() + timedelta(days=3)
    placed(supplier, warehouse, (product, 12), expected_date=expected)
    draft(supplier, warehouse, (product, 5))
    for n in range(5):
        other = shop.product(f"P{n}")
        shop.supply(other, supplier)
        shop.stock(other, warehouse, 1)
        placed(supplier, warehouse, (other, 2))
    with django_assert_max_num_queries(3):
        levels = tenant_a.viewer.get("/api/stock-levels", {"product_id": product.pk}).json()
    level = levels["results"][0]
    assert (level["on_order"], level["on_draft"], level["next_expected_date"]) == (
        12,
        5,
        expected.isoformat(),
    )
    stock = tenant_a.viewer.get(f"/api/products/{product.pk}/stock").json()
    here = next(row for row in stock["warehouses"] if row["warehouse_id"] == warehouse.pk)
    assert (here["on_order"], here["on_draft"], here["next_expected_date"]) == (
        12,
        5,
        expected.isoformat(),
    )
