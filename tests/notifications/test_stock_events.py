"""Stock events: one per crossing of a level's threshold (or its running out), written in
the transaction of the change, for every way stock changes; GET /api/events."""

from __future__ import annotations

import random

import pytest
from django.db import transaction

from stockflow.inventory import movements, sales
from stockflow.inventory.events import crossings
from stockflow.inventory.models import AppendOnlyError, LedgerEntry, StockEvent, StockLevel
from tests.factories import (
    assert_error,
    client_for,
    make_bundle,
    make_product,
    make_warehouse,
    put_stock,
    run_concurrently,
)
from tests.inventory.test_concurrency import random_operation

LOW, OUT, BACK = "stock.low", "stock.out", "stock.replenished"


def events_of(product, warehouse=None) -> list[tuple[str, int, int]]:
    rows = StockEvent.objects.filter(product=product).order_by("id")
    if warehouse is not None:
        rows = rows.filter(warehouse=warehouse)
    return [(e.type, e.data["quantity_before"], e.data["quantity_after"]) for e in rows]


@pytest.mark.parametrize(
    ("before", "after", "threshold", "expected"),
    [
        (20, 19, 20, [LOW]),
        (21, 20, 20, []),
        (19, 20, 20, [BACK]),
        (19, 18, 20, []),
        (25, 0, 20, [LOW, OUT]),
        (5, 0, 20, [OUT]),
        (0, 30, 20, [BACK]),
        (3, 0, None, [OUT]),
        (0, 5, None, []),
        (0, 0, 20, []),
        (10, 12, 0, []),
    ],
)
def test_crossings_of_one_change(before, after, threshold, expected):
    assert crossings(before, after, threshold) == expected


@pytest.mark.django_db
def test_fast_path_sale_records_low_with_the_alert_figures(shop, tenant_a):
    """The mug's threshold is 20 (its type's); 100 in stock. Selling 81 crosses it."""
    response = tenant_a.staff.post(
        "/api/sales",
        {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 81},
        format="json",
    )
    assert response.status_code == 201, response.content
    (event,) = StockEvent.objects.filter(product=shop.mug, type=LOW)
    assert event.company_id == shop.company.id
    level = StockLevel.objects.get(product=shop.mug, warehouse=shop.main)
    assert event.data == {
        "product_id": shop.mug.id,
        "sku": "MUG",
        "warehouse_id": shop.main.id,
        "stock_level_id": level.id,
        "quantity_before": 100,
        "quantity_after": 19,
        "threshold": 20,
        # 81 sold in 30 days: 2.7 a day; 19 units last 7 days; up to the threshold and 30
        # days of cover: 20 + 81 - 19.
        "avg_daily_sales": "2.7000",
        "days_until_stockout": 7,
        "suggested_reorder_quantity": 82,
        "window_days": 30,
        "cover_days": 30,
        "supplier_id": None,
    }
    tenant_a.staff.post(
        "/api/sales",
        {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 19},
        format="json",
    )
    # The level was created at 100: from 0, it crossed its threshold upwards.
    assert events_of(shop.mug) == [(BACK, 0, 100), (LOW, 100, 19), (OUT, 19, 0)]
    assert StockEvent.objects.filter(type=OUT).get().data["days_until_stockout"] == 0


@pytest.mark.django_db
def test_every_kind_of_change_records_its_crossings(shop, tenant_a):
    staff = tenant_a.staff
    mug, main, backup = shop.mug, shop.main, shop.backup

    def post(url, body):
        response = staff.post(url, body, format="json")
        assert response.status_code == 201, response.content

    post(
        "/api/stock/adjustments",
        {"product_id": mug.id, "warehouse_id": main.id, "change": -81, "reason": "damage"},
    )
    post("/api/stock/receipts", {"product_id": mug.id, "warehouse_id": main.id, "quantity": 1})
    post(
        "/api/stock/adjustments",
        {"product_id": mug.id, "warehouse_id": main.id, "counted_quantity": 0, "reason": "count"},
    )
    post("/api/stock/receipts", {"product_id": mug.id, "warehouse_id": main.id, "quantity": 40})
    post(
        "/api/stock/transfers",
        {
            "product_id": mug.id,
            "from_warehouse_id": main.id,
            "to_warehouse_id": backup.id,
            "quantity": 25,
        },
    )
    assert events_of(mug, main) == [
        (BACK, 0, 100),
        (LOW, 100, 19),
        (BACK, 19, 20),
        (LOW, 20, 0),
        (OUT, 20, 0),
        (BACK, 0, 40),
        (LOW, 40, 15),
    ]
    assert events_of(mug, backup) == [(BACK, 0, 25)]

    # A bundle sale: one event per component level that crosses (coffee is already low).
    post("/api/sales", {"product_id": shop.gift_box.id, "warehouse_id": main.id, "quantity": 15})
    assert events_of(mug, main)[-1] == (OUT, 15, 0)
    assert events_of(shop.coffee, main) == []
    post(
        "/api/stock/receipts",
        {"product_id": shop.coffee.id, "warehouse_id": backup.id, "quantity": 12},
    )
    post("/api/sales", {"product_id": shop.gift_box.id, "warehouse_id": backup.id, "quantity": 6})
    assert events_of(mug, backup)[-1] == (LOW, 25, 19)
    assert events_of(shop.coffee, backup) == [(OUT, 12, 0)]
    # Every stock event has its ledger entry with the same quantity after.
    for event in StockEvent.objects.all():
        assert LedgerEntry.objects.filter(
            stock_level_id=event.stock_level_id, quantity_after=event.data["quantity_after"]
        ).exists()


@pytest.mark.django_db
def test_full_sale_path_and_initial_stock(shop):
    bolt = make_product(shop.company, "BOLT", low_stock_threshold=10)
    put_stock(bolt, shop.main, 5)  # 0 → 5: below its threshold all along
    nut = make_product(shop.company, "NUT", low_stock_threshold=10)
    put_stock(nut, shop.main, 12)  # 0 → 12: at or above it
    assert events_of(bolt) == []
    assert events_of(nut) == [(BACK, 0, 12)]
    sales.record_sale(product=nut, warehouse=shop.main, quantity=3)
    assert events_of(nut)[-1] == (LOW, 12, 9)


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_event(shop):
    with pytest.raises(RuntimeError), transaction.atomic():
        sales.record_sale(product=shop.mug, warehouse=shop.main, quantity=100)
        assert [e.type for e in StockEvent.objects.order_by("id")] == [BACK, LOW, OUT]
        raise RuntimeError("the request failed after the sale")
    assert [e.type for e in StockEvent.objects.all()] == [BACK]
    assert StockLevel.objects.get(product=shop.mug, warehouse=shop.main).quantity == 100


@pytest.mark.django_db
def test_events_are_append_only(shop):
    sales.record_sale(product=shop.mug, warehouse=shop.main, quantity=100)
    event = StockEvent.objects.first()
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        StockEvent.objects.all().delete()


@pytest.mark.django_db
def test_events_api_lists_filters_and_pages_within_the_company(
    shop, other_shop, tenant_a, tenant_b
):
    sales.record_sale(product=shop.mug, warehouse=shop.main, quantity=90)  # low
    movements.receive_stock(product=shop.mug, warehouse=shop.main, quantity=20)  # back
    sales.record_sale(product=shop.mug, warehouse=shop.main, quantity=30)  # low, out
    sales.record_sale(product=other_shop.mug, warehouse=other_shop.main, quantity=10)
    response = tenant_a.viewer.get("/api/events", max_queries=4)
    assert response.status_code == 200
    body = response.json()
    assert [e["type"] for e in body["results"]] == [OUT, LOW, BACK, LOW, BACK]
    assert {e["company_id"] for e in body["results"]} == {shop.company.id}
    first = body["results"][0]
    assert set(first) == {
        "id",
        "type",
        "company_id",
        "product_id",
        "warehouse_id",
        "data",
        "created_at",
    }

    lows = tenant_a.viewer.get("/api/events", {"type": LOW}).json()["results"]
    assert [e["type"] for e in lows] == [LOW, LOW]
    assert (
        tenant_a.viewer.get("/api/events", {"product_id": shop.coffee.id}).json()["results"] == []
    )
    assert (
        len(tenant_a.viewer.get("/api/events", {"warehouse_id": shop.main.id}).json()["results"])
        == 5
    )
    future = tenant_a.viewer.get("/api/events", {"created_after": "2999-01-01T00:00:00Z"})
    assert future.json()["results"] == []

    page = tenant_a.viewer.get("/api/events", {"page_size": 3}).json()
    rest = client_for(tenant_a.users["viewer"]).get(page["next"]).json()
    assert [e["id"] for e in page["results"] + rest["results"]] == [
        e["id"] for e in body["results"]
    ]

    other = StockEvent.objects.get(company=other_shop.company)
    assert_error(tenant_a.viewer.get(f"/api/events/{other.id}"), 404, "not_found")
    assert tenant_b.viewer.get(f"/api/events/{other.id}").status_code == 200
    assert_error(
        tenant_a.viewer.get("/api/events", {"type": "stock.sideways"}), 400, "validation_error"
    )


def replayed_crossings(level: StockLevel) -> list[tuple[str, int, int]]:
    """The crossings a level's ledger implies, replayed from 0 through its quantity_after."""
    expected, before = [], 0
    entries = LedgerEntry.objects.filter(stock_level=level).order_by("id")
    for after in entries.values_list("quantity_after", flat=True):
        expected += [
            (kind, before, after) for kind in crossings(before, after, level.low_stock_threshold)
        ]
        before = after
    return expected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_record_exactly_the_crossings_of_the_ledger(tenant_a):
    """8 threads of mixed operations (sales on the fast path, bundle sales, transfers,
    receipts, adjustments, counts) on six levels kept around their threshold: afterwards each
    level's events are exactly the crossings of its ledger."""
    company = tenant_a.company
    warehouses = [make_warehouse(company, "NORTH"), make_warehouse(company, "SOUTH")]
    products = [make_product(company, f"EDGE-{name}", low_stock_threshold=12) for name in "ABC"]
    for product in products:
        for warehouse in warehouses:
            put_stock(product, warehouse, 14)
    bundles = [
        make_bundle(company, "EDGE-AB", components=[(products[0], 1), (products[1], 2)]),
        make_bundle(company, "EDGE-CB", components=[(products[2], 1), (products[1], 1)]),
    ]
    clients = [client_for(tenant_a.users["staff"]) for _ in range(8)]

    def worker(index: int) -> int:
        rng = random.Random(4242 + index)
        accepted = 0
        for _ in range(40):
            url, body = random_operation(rng, warehouses, products, bundles)
            if "counted_quantity" in body:
                body["counted_quantity"] = rng.randint(0, 20)
            response = clients[index].post(url, body, format="json")
            assert response.status_code in (201, 409), response.content
            accepted += response.status_code == 201
        return accepted

    assert sum(run_concurrently([lambda i=i: worker(i) for i in range(8)], timeout=180)) > 150
    levels = StockLevel.objects.filter(product__in=products)
    total = 0
    for level in levels:
        recorded = [
            (e.type, e.data["quantity_before"], e.data["quantity_after"])
            for e in StockEvent.objects.filter(stock_level=level).order_by("id")
        ]
        assert recorded == replayed_crossings(level), level
        total += len(recorded)
    assert total > 30  # the operations really went back and forth across the thresholds
    assert StockEvent.objects.filter(type=OUT).exists()
