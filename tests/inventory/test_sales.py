"""POST /api/sales: products and bundles, oversells, prices and dates, the hot path's queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from stockflow.catalog.models import BundleComponent
from stockflow.inventory.catalog_stock import update_product
from stockflow.inventory.models import LedgerEntry, Sale
from tests.factories import (
    assert_error,
    db_state,
    make_bundle,
    make_product,
    quantity_of,
    written_sql,
)

SALES = "/api/sales"


def sell(client, body, **headers):
    return client.post(SALES, body, format="json", **headers)


def test_sale_takes_stock_and_writes_sale_and_ledger(tenant_a, shop):
    response = sell(
        tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 3}
    )

    assert response.status_code == 201, response.content
    data = response.json()
    sale = Sale.objects.get(pk=data["id"])
    assert (sale.product_id, sale.warehouse_id, sale.quantity) == (shop.mug.id, shop.main.id, 3)
    assert data["unit_price"] == "12.50"  # the product's price by default, as an exact decimal
    assert sale.unit_price == Decimal("12.50")
    assert data["created_by_id"] == tenant_a.users["staff"].id
    [entry] = data["ledger_entries"]
    assert (entry["change"], entry["quantity_after"], entry["reason"]) == (-3, 97, "sale")
    assert (entry["reference_type"], entry["reference_id"]) == ("sale", sale.id)
    assert quantity_of(shop.mug, shop.main) == 97


def test_sale_with_price_and_past_date(tenant_a, shop):
    sold_at = timezone.now() - timedelta(days=40)
    body = {
        "product_id": shop.mug.id,
        "warehouse_id": shop.main.id,
        "quantity": 1,
        "unit_price": 9.99,  # a JSON number: parsed as a Decimal, never a float
        "sold_at": sold_at.isoformat(),
    }
    response = sell(tenant_a.staff, body)

    assert response.status_code == 201, response.content
    sale = Sale.objects.get(pk=response.json()["id"])
    assert sale.unit_price == Decimal("9.99")
    assert sale.sold_at == sold_at
    assert response.json()["unit_price"] == "9.99"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"sold_at": "2999-01-01T00:00:00Z"}, "sold_at"),
        ({"sold_at": "yesterday"}, "sold_at"),
        ({"unit_price": "-1.00"}, "unit_price"),
        ({"unit_price": "1.001"}, "unit_price"),
        ({"unit_price": "1e30"}, "unit_price"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": 2.5}, "quantity"),
    ],
)
def test_sale_validation(tenant_a, shop, extra, field):
    before = db_state()
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1, **extra}
    error = assert_error(sell(tenant_a.staff, body), 400, "validation_error")
    assert field in error["fields"]
    assert db_state() == before


def test_sale_dated_a_minute_ahead_is_accepted(tenant_a, shop):
    sold_at = timezone.now() + timedelta(minutes=1)
    body = {
        "product_id": shop.mug.id,
        "warehouse_id": shop.main.id,
        "quantity": 1,
        "sold_at": sold_at.isoformat(),
    }
    assert sell(tenant_a.staff, body).status_code == 201


def test_oversell_is_409_and_leaves_stock_and_ledger_unchanged(tenant_a, shop):
    before = db_state()
    response = sell(
        tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 101}
    )

    error = assert_error(response, 409, "insufficient_stock")
    assert error["lines"] == [
        {
            "product_id": shop.mug.id,
            "warehouse_id": shop.main.id,
            "requested": 101,
            "available": 100,
        }
    ]
    assert db_state() == before
    assert quantity_of(shop.mug, shop.main) == 100


def test_sale_in_a_warehouse_without_stock_level_is_409(tenant_a, shop):
    before = db_state()
    response = sell(
        tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": shop.backup.id, "quantity": 1}
    )
    error = assert_error(response, 409, "insufficient_stock")
    assert error["lines"][0]["available"] == 0
    assert db_state() == before


def test_selling_the_last_unit_then_one_more(tenant_a, shop):
    body = {"product_id": shop.coffee.id, "warehouse_id": shop.main.id, "quantity": 50}
    assert sell(tenant_a.staff, body).status_code == 201
    assert quantity_of(shop.coffee, shop.main) == 0
    assert_error(sell(tenant_a.staff, {**body, "quantity": 1}), 409, "insufficient_stock")


def test_bundle_sale_takes_every_component(tenant_a, shop):
    response = sell(
        tenant_a.staff,
        {"product_id": shop.gift_box.id, "warehouse_id": shop.main.id, "quantity": 5},
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["product_id"] == shop.gift_box.id
    assert data["unit_price"] == "25.00"
    changes = sorted(
        (e["product_id"], e["change"], e["quantity_after"]) for e in data["ledger_entries"]
    )
    assert changes == sorted([(shop.mug.id, -5, 95), (shop.coffee.id, -10, 40)])
    assert all(
        e["reference_id"] == data["id"] and e["reason"] == "sale" for e in data["ledger_entries"]
    )
    assert (quantity_of(shop.mug, shop.main), quantity_of(shop.coffee, shop.main)) == (95, 40)
    assert Sale.objects.get().product_id == shop.gift_box.id


def test_bundle_sale_short_on_one_component_writes_nothing(tenant_a, shop):
    before = db_state()
    # 26 boxes need 26 mugs (100 in stock) and 52 coffee bags (50 in stock).
    response = sell(
        tenant_a.staff,
        {"product_id": shop.gift_box.id, "warehouse_id": shop.main.id, "quantity": 26},
    )

    error = assert_error(response, 409, "insufficient_stock")
    assert error["lines"] == [
        {
            "product_id": shop.coffee.id,
            "warehouse_id": shop.main.id,
            "requested": 52,
            "available": 50,
        }
    ]
    assert db_state() == before


def test_bundle_sale_lists_every_short_component(tenant_a, shop):
    before = db_state()
    response = sell(
        tenant_a.staff,
        {"product_id": shop.gift_box.id, "warehouse_id": shop.backup.id, "quantity": 2},
    )
    error = assert_error(response, 409, "insufficient_stock")
    assert sorted(
        (line["product_id"], line["requested"], line["available"]) for line in error["lines"]
    ) == sorted([(shop.mug.id, 2, 0), (shop.coffee.id, 4, 0)])
    assert db_state() == before


def test_nested_bundle_sale(tenant_a, shop):
    crate = make_bundle(shop.company, "CRATE", components=[(shop.gift_box, 2), (shop.mug, 1)])
    response = sell(
        tenant_a.staff, {"product_id": crate.id, "warehouse_id": shop.main.id, "quantity": 3}
    )

    assert response.status_code == 201, response.content
    # One crate: 2 gift boxes (2 mugs + 4 coffee) + 1 mug = 3 mugs + 4 coffee.
    assert (quantity_of(shop.mug, shop.main), quantity_of(shop.coffee, shop.main)) == (91, 38)


def test_bundle_with_an_inactive_component_or_no_component_is_refused(tenant_a, shop):
    empty = make_bundle(shop.company, "EMPTY")
    retired = make_product(shop.company, "RETIRED", warehouse=shop.main, quantity=10)
    with_retired = make_bundle(shop.company, "OLD-BOX", components=[(shop.mug, 1), (retired, 1)])
    update_product(retired, is_active=False)  # retired after it went into the bundle
    before = db_state()
    for bundle in (empty, with_retired):
        body = {"product_id": bundle.id, "warehouse_id": shop.main.id, "quantity": 1}
        error = assert_error(sell(tenant_a.staff, body), 400, "validation_error")
        assert list(error["fields"]) == ["product_id"]
    assert db_state() == before


def test_huge_bundle_sale_is_a_plain_409(tenant_a, shop):
    # Units per bundle times the quantity sold is computed exactly, never in a column type.
    huge = make_bundle(shop.company, "HUGE")
    # More units per bundle than the catalog accepts (a row written around it, as older data
    # may be): the sale still computes exactly.
    BundleComponent.objects.create(
        company=shop.company, bundle=huge, component=shop.mug, quantity=2**31 - 1
    )
    before = db_state()
    body = {"product_id": huge.id, "warehouse_id": shop.main.id, "quantity": 1_000_000_000}
    error = assert_error(sell(tenant_a.staff, body), 409, "insufficient_stock")
    assert error["lines"][0]["requested"] == (2**31 - 1) * 1_000_000_000
    assert db_state() == before


def statements(captured) -> list[str]:
    """The first word of each statement, without transaction control (SQLite logs its BEGIN
    IMMEDIATE and COMMIT; PostgreSQL's are not statements in Django's log)."""
    logged = [written_sql(query["sql"]) for query in captured.captured_queries]
    words = [sql.split()[0].upper() for sql in logged]
    return [word for word in words if word not in {"BEGIN", "COMMIT"}]


# Transactional: the request's transaction is then the outermost one, as in production (inside
# a test's wrapping transaction it would be a savepoint).
@pytest.mark.django_db(transaction=True)
def test_sale_hot_path_query_count(tenant_a, shop, django_assert_max_num_queries):
    """Measured: 4 statements. The token check with the caller's memberships, then the
    conditional stock UPDATE (which also checks the product, the warehouse and the tenant),
    the sale INSERT and the ledger INSERT. No savepoint, no lock SELECT, no read-back. (6 on
    SQLite, which logs BEGIN and COMMIT.)"""
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}

    with django_assert_max_num_queries(6) as captured:
        response = sell(tenant_a.staff, body)

    assert response.status_code == 201
    assert statements(captured) == ["SELECT", "UPDATE", "INSERT", "INSERT"]


@pytest.mark.django_db(transaction=True)
def test_sale_with_idempotency_key_query_count(tenant_a, shop, django_assert_max_num_queries):
    """An Idempotency-Key takes the complete path (the product decides the company the key is
    claimed in): the product and the warehouse are read, then the claim INSERT, the sale's
    three writes and storing the response."""
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}
    with django_assert_max_num_queries(10) as captured:
        response = sell(tenant_a.staff, body, HTTP_IDEMPOTENCY_KEY="sale-1")
    assert response.status_code == 201
    assert statements(captured) == ["SELECT"] * 3 + [
        "INSERT",
        "UPDATE",
        "INSERT",
        "INSERT",
        "UPDATE",
    ]

    # A replay: the claim finds the key taken, one SELECT reads the stored response.
    with django_assert_max_num_queries(7) as captured:
        replay = sell(tenant_a.staff, body, HTTP_IDEMPOTENCY_KEY="sale-1")
    assert statements(captured) == ["SELECT"] * 3 + ["INSERT", "SELECT"]
    assert replay.status_code == 201
    assert replay.json() == response.json()
    assert LedgerEntry.objects.filter(reason="sale").count() == 1


def test_sale_refused_while_units_arrive_is_tried_again(tenant_a, shop, monkeypatch, settings):
    """The conditional UPDATE found too little, but units arrived before the level was read
    for the error report: the sale is tried again instead of a 409 claiming enough stock."""
    from stockflow import locking

    # The complete path's retry is under test: the fast path steps aside.
    settings.SALE_FAST_PATH = False
    original = locking.change_stock_level
    calls = []

    def first_attempt_finds_too_little(company_id, key, change, **kwargs):
        calls.append(change)
        return None if len(calls) == 1 else original(company_id, key, change, **kwargs)

    monkeypatch.setattr(locking, "change_stock_level", first_attempt_finds_too_little)
    response = sell(
        tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 3}
    )

    assert response.status_code == 201, response.content
    assert calls == [-3, -3]
    assert quantity_of(shop.mug, shop.main) == 97
