"""Business rules of GET /api/companies/{id}/alerts/low-stock (SPEC §3.2), one per test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stockflow.alerts.selectors import low_stock_alerts
from tests.alerts.report import report_url
from tests.factories import Shop, assert_error


def keys(body: dict) -> list[tuple[int, int]]:
    return [(a["product_id"], a["warehouse_id"]) for a in body["alerts"]]


def only_alert(body: dict) -> dict:
    assert body["total_alerts"] == 1, body
    assert len(body["alerts"]) == 1, body
    return body["alerts"][0]


def test_response_has_every_field_of_the_spec(shop: Shop, fetch_report):
    warehouse = shop.warehouse("Main Warehouse")
    product = shop.product("Widget A", threshold=20)
    supplier = shop.supplier("Supplier Corp", "orders@supplier.com")
    shop.supply(product, supplier, lead_time_days=5, primary=True)
    shop.stock(product, warehouse, 5)
    shop.sale(product, warehouse, 12)

    body = fetch_report()

    assert body["total_alerts"] == 1
    assert body["alerts"] == [
        {
            "product_id": product.pk,
            "product_name": "Widget A",
            "sku": product.sku,
            "warehouse_id": warehouse.pk,
            "warehouse_name": "Main Warehouse",
            "current_stock": 5,
            "threshold": 20,
            # 12 units in 30 days: 0.4 a day; 5 / 0.4 = 12.5
            "days_until_stockout": 12,
            "supplier": {
                "id": supplier.pk,
                "name": "Supplier Corp",
                "contact_email": "orders@supplier.com",
            },
            "units_sold": 12,
            "avg_daily_sales": "0.4000",
            "lead_time_days": 5,
            "on_order": 0,
            "on_draft": 0,
            "next_expected_date": None,
            # S = 20 + (5 + 30) days × 0.4 = 34 units, 5 in stock
            "suggested_reorder_quantity": 29,
            # 12 days of stock, the supplier delivers in 5
            "stockout_before_delivery": False,
        }
    ]
    assert body["window_days"] == 30
    assert body["cover_days"] == 30
    assert body["limit"] is None
    assert body["offset"] == 0
    assert body["as_of"].endswith("Z")


def test_no_sale_in_the_window_no_alert(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.stock(product, warehouse, 2)
    shop.sale(product, warehouse, 5, days_ago=31)

    body = fetch_report()
    assert (body["alerts"], body["total_alerts"]) == ([], 0)


def test_no_sale_at_all_no_alert(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.stock(product, warehouse, 0)

    assert fetch_report()["total_alerts"] == 0


def test_sales_only_in_another_warehouse_alert_only_there(shop: Shop, fetch_report):
    selling = shop.warehouse("Selling")
    quiet = shop.warehouse("Quiet")
    product = shop.product(threshold=10)
    shop.stock(product, selling, 3)
    shop.stock(product, quiet, 1)
    shop.sale(product, selling, 6)

    assert keys(fetch_report()) == [(product.pk, selling.pk)]


def test_zero_stock_is_zero_days(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.stock(product, warehouse, 0)
    shop.sale(product, warehouse, 1)

    alert = only_alert(fetch_report())
    assert alert["current_stock"] == 0
    assert alert["days_until_stockout"] == 0


def test_sales_without_stock_level_are_not_checked(shop: Shop, fetch_report):
    # Every sale takes its units from an existing stock level (inventory.services) and a
    # product with sales cannot be deleted, so a product that sold in a warehouse has a stock
    # level there. Sales written around the services without one are not checked: the report
    # starts from the stock levels below their threshold.
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.sale(product, warehouse, 3)

    assert fetch_report()["total_alerts"] == 0

    shop.stock(product, warehouse, 0)  # the empty level a sale through the services needs

    alert = only_alert(fetch_report())
    assert alert["current_stock"] == 0
    assert alert["days_until_stockout"] == 0
    # threshold 10 + 30 days × 0.1, no supplier lead time
    assert alert["suggested_reorder_quantity"] == 13


def test_stock_equal_to_threshold_no_alert(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    at_threshold = shop.product(threshold=10)
    below = shop.product(threshold=10)
    shop.stock(at_threshold, warehouse, 10)
    shop.stock(below, warehouse, 9)
    shop.sale(at_threshold, warehouse, 5)
    shop.sale(below, warehouse, 5)

    assert keys(fetch_report()) == [(below.pk, warehouse.pk)]


def test_product_threshold_overrides_type_threshold(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    kind = shop.product_type(threshold=50)
    overridden_low = shop.product(product_type=kind, threshold=5)  # 20 >= 5: no alert
    overridden_high = shop.product(product_type=kind, threshold=100)
    inherited = shop.product(product_type=kind)
    overridden_zero = shop.product(product_type=kind, threshold=0)  # 0 is a threshold too
    for product in (overridden_low, overridden_high, inherited, overridden_zero):
        shop.stock(product, warehouse, 20)
        shop.sale(product, warehouse, 3)

    body = fetch_report()

    thresholds = {a["product_id"]: a["threshold"] for a in body["alerts"]}
    assert thresholds == {overridden_high.pk: 100, inherited.pk: 50}


def test_no_threshold_no_alert(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    typed_without = shop.product(product_type=shop.product_type(threshold=None))
    untyped = shop.product()
    for product in (typed_without, untyped):
        shop.stock(product, warehouse, 0)
        shop.sale(product, warehouse, 3)

    assert fetch_report()["total_alerts"] == 0


def test_no_supplier_is_null_and_lead_time_counts_as_zero(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=20)
    shop.stock(product, warehouse, 4)
    shop.sale(product, warehouse, 30)  # 1 a day

    alert = only_alert(fetch_report())
    assert alert["supplier"] is None
    assert alert["lead_time_days"] is None
    # threshold 20 + 30 days of cover - 4 in stock
    assert alert["suggested_reorder_quantity"] == 46
    assert alert["stockout_before_delivery"] is False  # no lead time: never late


def test_primary_supplier_wins_over_shorter_lead_time(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=20)
    fast = shop.supplier("Fast")
    primary = shop.supplier("Primary")
    shop.supply(product, fast, lead_time_days=1, unit_cost="0.50")
    shop.supply(product, primary, lead_time_days=20, unit_cost="9.00", primary=True)
    shop.stock(product, warehouse, 4)
    shop.sale(product, warehouse, 3)

    alert = only_alert(fetch_report())
    assert alert["supplier"]["id"] == primary.pk
    assert alert["lead_time_days"] == 20


def test_without_primary_the_shortest_lead_time_then_cost_then_id(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    by_lead_time = shop.product(threshold=20)
    by_cost = shop.product(threshold=20)
    by_id = shop.product(threshold=20)
    cost_missing = shop.product(threshold=20)
    first, second, third = shop.supplier("A"), shop.supplier("B"), shop.supplier("C")
    shop.supply(by_lead_time, first, lead_time_days=10, unit_cost="1.00")
    shop.supply(by_lead_time, second, lead_time_days=3, unit_cost="5.00")
    shop.supply(by_lead_time, third, lead_time_days=4, unit_cost="0.10")
    shop.supply(by_cost, first, lead_time_days=3, unit_cost="1.0002")
    shop.supply(by_cost, second, lead_time_days=3, unit_cost="1.0001")
    shop.supply(by_id, third, lead_time_days=3, unit_cost="2.00")
    shop.supply(by_id, second, lead_time_days=3, unit_cost="2.00")
    shop.supply(cost_missing, first, lead_time_days=3, unit_cost=None)
    shop.supply(cost_missing, third, lead_time_days=3, unit_cost="99.00")
    for product in (by_lead_time, by_cost, by_id, cost_missing):
        shop.stock(product, warehouse, 1)
        shop.sale(product, warehouse, 3)

    chosen = {a["product_id"]: a["supplier"]["id"] for a in fetch_report()["alerts"]}
    assert chosen == {
        by_lead_time.pk: second.pk,
        by_cost.pk: second.pk,
        by_id.pk: second.pk,
        cost_missing.pk: third.pk,
    }


def test_bundle_sales_count_toward_components_and_bundles_are_not_alerted(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    mug = shop.product("Mug", threshold=100)
    coffee = shop.product("Coffee", threshold=100)
    gift_box = shop.product("Gift box", threshold=1000, bundle=True)
    shop.component(gift_box, mug, 1)
    shop.component(gift_box, coffee, 2)
    shop.stock(mug, warehouse, 10)
    shop.stock(coffee, warehouse, 10)
    shop.sale(gift_box, warehouse, 3)
    shop.sale(coffee, warehouse, 4)

    body = fetch_report()

    sold = {a["product_id"]: a["units_sold"] for a in body["alerts"]}
    assert sold == {mug.pk: 3, coffee.pk: 3 * 2 + 4}
    coffee_alert = next(a for a in body["alerts"] if a["product_id"] == coffee.pk)
    assert coffee_alert["days_until_stockout"] == 30  # 10 / (10 / 30)


def test_nested_bundle_demand_is_multiplied_out(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    bag = shop.product("Coffee bag", threshold=1000)
    mug = shop.product("Mug", threshold=1000)
    duo = shop.product("Duo", bundle=True)  # 2 bags + 1 mug
    crate = shop.product("Crate", bundle=True)  # 3 duos + 1 bag
    shop.component(duo, bag, 2)
    shop.component(duo, mug, 1)
    shop.component(crate, duo, 3)
    shop.component(crate, bag, 1)
    shop.stock(bag, warehouse, 0)
    shop.stock(mug, warehouse, 0)
    shop.sale(crate, warehouse, 2)
    shop.sale(duo, warehouse, 1)

    sold = {a["product_id"]: a["units_sold"] for a in fetch_report()["alerts"]}
    # crate: 2 × (3 × 2 + 1) bags, 2 × 3 × 1 mugs; duo: 2 bags, 1 mug
    assert sold == {bag.pk: 14 + 2, mug.pk: 6 + 1}


def test_bundle_sales_in_another_warehouse_stay_there(shop: Shop, fetch_report):
    north, south = shop.warehouse("North"), shop.warehouse("South")
    part = shop.product(threshold=10)
    kit = shop.product(bundle=True)
    shop.component(kit, part, 2)
    shop.stock(part, north, 1)
    shop.stock(part, south, 1)
    shop.sale(kit, north, 1)

    alert = only_alert(fetch_report())
    assert (alert["warehouse_id"], alert["units_sold"]) == (north.pk, 2)


def test_inactive_product_and_inactive_warehouse_are_not_checked(shop: Shop, fetch_report):
    active_wh = shop.warehouse("Open")
    closed_wh = shop.warehouse("Closed", active=False)
    active = shop.product(threshold=10)
    retired = shop.product(threshold=10, active=False)
    for product in (active, retired):
        for warehouse in (active_wh, closed_wh):
            shop.stock(product, warehouse, 1)
            shop.sale(product, warehouse, 2)

    assert keys(fetch_report()) == [(active.pk, active_wh.pk)]


def test_window_can_be_changed(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.stock(product, warehouse, 5)
    shop.sale(product, warehouse, 4, days_ago=3.5)
    shop.sale(product, warehouse, 6, days_ago=10.5)

    assert fetch_report(days=3)["total_alerts"] == 0
    week = only_alert(fetch_report(days=7))
    assert (week["units_sold"], week["days_until_stockout"]) == (4, 8)  # 5 / (4/7) = 8.75
    assert week["avg_daily_sales"] == "0.5714"
    assert fetch_report(days=7)["window_days"] == 7
    month = only_alert(fetch_report(days=30))
    assert (month["units_sold"], month["days_until_stockout"]) == (10, 15)


def test_window_start_is_exclusive_and_end_inclusive(shop: Shop, tenant_a):
    warehouse = shop.warehouse()
    product = shop.product(threshold=100)
    shop.stock(product, warehouse, 0)
    now = timezone.now()
    shop.sale(product, warehouse, 1, at=now - timedelta(days=7))  # on the start: out
    shop.sale(product, warehouse, 10, at=now - timedelta(days=7) + timedelta(microseconds=1))
    shop.sale(product, warehouse, 100, at=now)  # on the end: in
    shop.sale(product, warehouse, 1000, at=now + timedelta(microseconds=1))  # future: out

    page = low_stock_alerts(company_id=tenant_a.company.pk, now=now, days=7)

    assert [row["units_sold"] for row in page.rows] == [110]


def test_exact_days_until_stockout_no_early_integer_division(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.stock(product, warehouse, 7)
    shop.sale(product, warehouse, 15)  # 0.5 a day: 7 / 0.5 = 14 (15 // 30 = 0 would break)

    alert = only_alert(fetch_report())
    assert alert["days_until_stockout"] == 14
    assert alert["avg_daily_sales"] == "0.5000"


def test_slow_sellers_are_not_clamped_to_one_unit_a_day(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.stock(product, warehouse, 9)
    shop.sale(product, warehouse, 1)

    alert = only_alert(fetch_report(days=365))
    assert alert["days_until_stockout"] == 9 * 365
    assert alert["avg_daily_sales"] == "0.0027"  # 1/365 = 0.00273…


def test_average_daily_sales_rounds_half_up(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.stock(product, warehouse, 1)
    shop.sale(product, warehouse, 1)

    assert only_alert(fetch_report(days=32))["avg_daily_sales"] == "0.0313"  # 0.03125
    assert only_alert(fetch_report(days=3))["avg_daily_sales"] == "0.3333"


def test_suggested_reorder_quantity(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.supply(product, shop.supplier(), lead_time_days=7, primary=True)
    shop.stock(product, warehouse, 7)
    shop.sale(product, warehouse, 15)  # 0.5 a day

    # S = 10 + (7 + 30) × 0.5 = 28.5 → 29 - 7
    assert only_alert(fetch_report())["suggested_reorder_quantity"] == 22
    # S = 10 + (7 + 0) × 0.5 = 13.5 → 14 - 7
    assert only_alert(fetch_report(cover_days=0))["suggested_reorder_quantity"] == 7
    # S = 10 + (7 + 365) × 0.5 = 196 - 7
    assert only_alert(fetch_report(cover_days=365))["suggested_reorder_quantity"] == 189


def test_most_urgent_first(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    second_wh = shop.warehouse("Second")

    def alerting(threshold: int, stock: int, sold: int, where=warehouse):
        product = shop.product(threshold=threshold)
        shop.stock(product, where, stock)
        shop.sale(product, where, sold)
        return product

    slow = alerting(threshold=10, stock=9, sold=3)  # 90 days
    fast = alerting(threshold=10, stock=5, sold=30)  # 5 days
    empty_small_gap = alerting(threshold=2, stock=0, sold=1)  # 0 days, shortfall 2
    empty_big_gap = alerting(threshold=50, stock=0, sold=1)  # 0 days, shortfall 50
    tie_a = alerting(threshold=10, stock=6, sold=30)  # 6 days, shortfall 4
    tie_b = alerting(threshold=10, stock=6, sold=30)  # same: product id decides
    shop.stock(tie_a, second_wh, 6)
    shop.sale(tie_a, second_wh, 30)  # same again: warehouse id decides

    assert keys(fetch_report()) == [
        (empty_big_gap.pk, warehouse.pk),
        (empty_small_gap.pk, warehouse.pk),
        (fast.pk, warehouse.pk),
        (tie_a.pk, warehouse.pk),
        (tie_a.pk, second_wh.pk),
        (tie_b.pk, warehouse.pk),
        (slow.pk, warehouse.pk),
    ]


def test_paging_keeps_the_total(shop: Shop, fetch_report):
    warehouse = shop.warehouse()
    for stock in range(7):
        product = shop.product(threshold=10)
        shop.stock(product, warehouse, stock)
        shop.sale(product, warehouse, 30)
    everything = fetch_report()
    assert everything["total_alerts"] == 7

    pages = [fetch_report(limit=3, offset=offset) for offset in (0, 3, 6)]

    assert [len(p["alerts"]) for p in pages] == [3, 3, 1]
    assert all(p["total_alerts"] == 7 for p in pages)
    assert [a for p in pages for a in p["alerts"]] == everything["alerts"]
    assert (pages[1]["limit"], pages[1]["offset"]) == (3, 3)
    beyond = fetch_report(limit=3, offset=100)
    assert (beyond["alerts"], beyond["total_alerts"]) == ([], 7)
    assert fetch_report(offset=5)["alerts"] == everything["alerts"][5:]


def test_filters_by_warehouse_and_product_type(shop: Shop, other_shop: Shop, fetch_report):
    north, south = shop.warehouse("North"), shop.warehouse("South")
    tools, toys = shop.product_type("Tools", 10), shop.product_type("Toys", 10)
    hammer, yoyo = shop.product(product_type=tools), shop.product(product_type=toys)
    for product in (hammer, yoyo):
        for warehouse in (north, south):
            shop.stock(product, warehouse, 1)
            shop.sale(product, warehouse, 1)
    foreign_wh = other_shop.warehouse()
    foreign_type = other_shop.product_type("Tools", 10)

    assert fetch_report()["total_alerts"] == 4
    assert sorted(keys(fetch_report(warehouse_id=north.pk))) == [
        (hammer.pk, north.pk),
        (yoyo.pk, north.pk),
    ]
    assert keys(fetch_report(product_type_id=toys.pk)) == [(yoyo.pk, north.pk), (yoyo.pk, south.pk)]
    both = fetch_report(warehouse_id=south.pk, product_type_id=tools.pk)
    assert (keys(both), both["total_alerts"]) == ([(hammer.pk, south.pk)], 1)
    assert fetch_report(warehouse_id=foreign_wh.pk)["total_alerts"] == 0
    assert fetch_report(product_type_id=foreign_type.pk)["total_alerts"] == 0
    assert fetch_report(warehouse_id=2**63 - 1)["total_alerts"] == 0


def test_other_company_data_never_appears(shop: Shop, other_shop: Shop, tenant_b, fetch_report):
    theirs_wh = other_shop.warehouse()
    theirs = other_shop.product(threshold=10)
    other_shop.stock(theirs, theirs_wh, 0)
    other_shop.sale(theirs, theirs_wh, 5)
    ours_wh = shop.warehouse()
    ours = shop.product(threshold=10)
    shop.stock(ours, ours_wh, 0)
    shop.sale(ours, ours_wh, 5)

    assert keys(fetch_report()) == [(ours.pk, ours_wh.pk)]
    assert keys(fetch_report(tenant_b.viewer, tenant_b.company.pk)) == [(theirs.pk, theirs_wh.pk)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": "0"}, "days"),
        ({"days": "366"}, "days"),
        ({"days": "abc"}, "days"),
        ({"days": ""}, "days"),
        ({"days": "1.5"}, "days"),
        ({"days": "9" * 5000}, "days"),
        ({"cover_days": "-1"}, "cover_days"),
        ({"cover_days": "366"}, "cover_days"),
        ({"warehouse_id": "x"}, "warehouse_id"),
        ({"warehouse_id": "0"}, "warehouse_id"),
        ({"warehouse_id": str(2**63)}, "warehouse_id"),
        ({"product_type_id": "1e3"}, "product_type_id"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"days": ["5", "6"]}, "days"),
    ],
)
def test_bad_parameters_are_400_on_the_field(tenant_a, params, field):
    error = assert_error(
        tenant_a.viewer.get(report_url(tenant_a.company.pk), params), 400, "validation_error"
    )
    assert list(error["fields"]) == [field]


def test_bounds_are_accepted(shop: Shop, fetch_report):
    body = fetch_report(days=365, cover_days=0, limit=500, offset=0)
    assert (body["window_days"], body["cover_days"], body["limit"]) == (365, 0, 500)
    assert fetch_report(days=1, cover_days=365, limit=1)["total_alerts"] == 0
