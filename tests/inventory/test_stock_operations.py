"""Receipts, adjustments and transfers through the API."""

from __future__ import annotations

import pytest

from stockflow.inventory.models import LedgerEntry, StockLevel, StockMovement
from tests.factories import assert_error, db_state, make_warehouse, quantity_of

RECEIPTS = "/api/stock/receipts"
ADJUSTMENTS = "/api/stock/adjustments"
TRANSFERS = "/api/stock/transfers"


def post(client, url, body, **headers):
    return client.post(url, body, format="json", **headers)


# --- receipts ------------------------------------------------------------------------------


def test_receipt_adds_stock_and_writes_movement_and_ledger(tenant_a, shop):
    body = {
        "product_id": shop.mug.id,
        "warehouse_id": shop.main.id,
        "quantity": 30,
        "reference": "PO-1001",
        "note": "spring delivery",
    }
    response = post(tenant_a.staff, RECEIPTS, body)

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kind"] == "receipt"
    assert data["quantity"] == 30
    assert data["reference"] == "PO-1001"
    assert data["created_by_id"] == tenant_a.users["staff"].id
    [entry] = data["ledger_entries"]
    assert entry["change"] == 30
    assert entry["quantity_after"] == 130
    assert entry["reason"] == "receipt"
    assert entry["reference_type"] == "movement"
    assert entry["reference_id"] == data["id"]
    assert entry["note"] == "spring delivery"
    assert quantity_of(shop.mug, shop.main) == 130
    movement = StockMovement.objects.get(pk=data["id"])
    assert movement.external_reference == "PO-1001"


def test_receipt_into_a_warehouse_without_stock_level_creates_it(tenant_a, shop):
    assert quantity_of(shop.mug, shop.backup) is None

    response = post(
        tenant_a.staff,
        RECEIPTS,
        {"product_id": shop.mug.id, "warehouse_id": shop.backup.id, "quantity": 5},
    )

    assert response.status_code == 201, response.content
    assert quantity_of(shop.mug, shop.backup) == 5
    level = StockLevel.objects.get(product=shop.mug, warehouse=shop.backup)
    assert level.company_id == shop.company.id
    assert list(level.ledger_entries.values_list("change", "quantity_after")) == [(5, 5)]


@pytest.mark.parametrize(
    ("quantity", "field"),
    [
        (0, "quantity"),
        (-3, "quantity"),
        ("many", "quantity"),
        (True, "quantity"),
        (None, "quantity"),
        (10**12, "quantity"),
    ],
)
def test_receipt_refuses_bad_quantities(tenant_a, shop, quantity, field):
    before = db_state()
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": quantity}
    error = assert_error(post(tenant_a.staff, RECEIPTS, body), 400, "validation_error")
    assert field in error["fields"]
    assert db_state() == before


def test_receipt_with_missing_fields_lists_each(tenant_a, shop):
    error = assert_error(post(tenant_a.staff, RECEIPTS, {}), 400, "validation_error")
    assert {"product_id", "warehouse_id", "quantity"} <= set(error["fields"])


def test_receipt_of_a_bundle_is_refused(tenant_a, shop):
    before = db_state()
    body = {"product_id": shop.gift_box.id, "warehouse_id": shop.main.id, "quantity": 1}
    error = assert_error(post(tenant_a.staff, RECEIPTS, body), 400, "validation_error")
    assert "product_id" in error["fields"]
    assert db_state() == before
    assert not StockLevel.objects.filter(product=shop.gift_box).exists()


def test_inactive_product_or_warehouse_refuses_stock_operations(tenant_a, shop):
    shop.mug.is_active = False
    shop.mug.save()
    closed = make_warehouse(shop.company, "CLOSED", is_active=False)
    coffee_active = shop.coffee
    before = db_state()

    error = assert_error(
        post(
            tenant_a.staff,
            RECEIPTS,
            {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1},
        ),
        400,
        "validation_error",
    )
    assert list(error["fields"]) == ["product_id"]
    error = assert_error(
        post(
            tenant_a.staff,
            RECEIPTS,
            {"product_id": coffee_active.id, "warehouse_id": closed.id, "quantity": 1},
        ),
        400,
        "validation_error",
    )
    assert list(error["fields"]) == ["warehouse_id"]
    error = assert_error(
        post(
            tenant_a.staff,
            "/api/sales",
            {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1},
        ),
        400,
        "validation_error",
    )
    assert list(error["fields"]) == ["product_id"]
    assert db_state() == before


def test_unknown_or_foreign_product_is_404_and_foreign_warehouse_is_400(tenant_a, shop, other_shop):
    before = db_state()
    for product_id in (other_shop.mug.id, 999_999_999, 2**70):
        body = {"product_id": product_id, "warehouse_id": shop.main.id, "quantity": 1}
        assert_error(post(tenant_a.staff, RECEIPTS, body), 404, "not_found")
    body = {"product_id": shop.mug.id, "warehouse_id": other_shop.main.id, "quantity": 1}
    error = assert_error(post(tenant_a.staff, RECEIPTS, body), 400, "validation_error")
    assert list(error["fields"]) == ["warehouse_id"]
    body = {"product_id": shop.mug.id, "warehouse_id": "abc", "quantity": 1}
    assert_error(post(tenant_a.staff, RECEIPTS, body), 400, "validation_error")
    assert db_state() == before


def test_warehouse_of_another_company_of_the_same_user_is_400(tenant_a, shop, other_shop):
    from stockflow.tenancy.models import Membership, Role

    Membership.objects.create(
        user=tenant_a.users["staff"], company=other_shop.company, role=Role.STAFF
    )
    before = db_state()
    body = {"product_id": shop.mug.id, "warehouse_id": other_shop.main.id, "quantity": 1}
    error = assert_error(post(tenant_a.staff, RECEIPTS, body), 400, "validation_error")
    assert list(error["fields"]) == ["warehouse_id"]
    assert db_state() == before


@pytest.mark.parametrize("url", [RECEIPTS, ADJUSTMENTS, TRANSFERS, "/api/sales"])
def test_viewer_cannot_move_stock(tenant_a, shop, url):
    bodies = {
        RECEIPTS: {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1},
        ADJUSTMENTS: {
            "product_id": shop.mug.id,
            "warehouse_id": shop.main.id,
            "change": -1,
            "reason": "damage",
        },
        TRANSFERS: {
            "product_id": shop.mug.id,
            "from_warehouse_id": shop.main.id,
            "to_warehouse_id": shop.backup.id,
            "quantity": 1,
        },
        "/api/sales": {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1},
    }
    before = db_state()
    assert_error(post(tenant_a.viewer, url, bodies[url]), 403, "permission_denied")
    assert db_state() == before

    for role_client in (tenant_a.staff, tenant_a.admin, tenant_a.owner):
        assert post(role_client, url, bodies[url]).status_code == 201


def test_anonymous_cannot_move_stock(anon, shop):
    before = db_state()
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}
    assert_error(post(anon, RECEIPTS, body), 401, "not_authenticated")
    assert db_state() == before


# --- adjustments ---------------------------------------------------------------------------


def test_adjustment_by_signed_change(tenant_a, shop):
    body = {
        "product_id": shop.mug.id,
        "warehouse_id": shop.main.id,
        "change": -4,
        "reason": "damage",
        "note": "dropped",
    }
    response = post(tenant_a.staff, ADJUSTMENTS, body)

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["kind"], data["quantity"], data["adjustment_reason"]) == (
        "adjustment",
        -4,
        "damage",
    )
    [entry] = data["ledger_entries"]
    assert (
        entry["change"],
        entry["quantity_after"],
        entry["reason"],
        entry["adjustment_reason"],
    ) == (
        -4,
        96,
        "adjustment",
        "damage",
    )
    assert quantity_of(shop.mug, shop.main) == 96


@pytest.mark.parametrize(("counted", "change"), [(120, 20), (7, -93), (0, -100)])
def test_adjustment_by_count_sets_the_quantity(tenant_a, shop, counted, change):
    body = {
        "product_id": shop.mug.id,
        "warehouse_id": shop.main.id,
        "counted_quantity": counted,
        "reason": "count",
    }
    response = post(tenant_a.staff, ADJUSTMENTS, body)

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["quantity"] == change
    assert data["counted_quantity"] == counted
    assert [e["change"] for e in data["ledger_entries"]] == [change]
    assert quantity_of(shop.mug, shop.main) == counted


def test_count_equal_to_stock_records_the_count_without_ledger_entry(tenant_a, shop):
    ledger_before = LedgerEntry.objects.count()
    body = {
        "product_id": shop.mug.id,
        "warehouse_id": shop.main.id,
        "counted_quantity": 100,
        "reason": "count",
    }
    response = post(tenant_a.staff, ADJUSTMENTS, body)

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["quantity"], data["counted_quantity"], data["ledger_entries"]) == (0, 100, [])
    assert StockMovement.objects.filter(pk=data["id"], quantity=0, counted_quantity=100).exists()
    assert LedgerEntry.objects.count() == ledger_before
    assert quantity_of(shop.mug, shop.main) == 100


def test_count_in_a_warehouse_without_stock_level(tenant_a, shop):
    body = {
        "product_id": shop.mug.id,
        "warehouse_id": shop.backup.id,
        "counted_quantity": 8,
        "reason": "count",
    }
    assert post(tenant_a.staff, ADJUSTMENTS, body).status_code == 201
    assert quantity_of(shop.mug, shop.backup) == 8


def test_return_into_a_warehouse_without_stock_level(tenant_a, shop):
    body = {
        "product_id": shop.mug.id,
        "warehouse_id": shop.backup.id,
        "change": 2,
        "reason": "return",
    }
    assert post(tenant_a.staff, ADJUSTMENTS, body).status_code == 201
    assert quantity_of(shop.mug, shop.backup) == 2


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "non_field_errors"),
        ({"change": 1, "counted_quantity": 3}, "non_field_errors"),
        ({"change": 0}, "change"),
        ({"counted_quantity": -1}, "counted_quantity"),
        ({"change": 1, "reason": "theft"}, "reason"),
        ({"change": 1, "reason": None}, "reason"),
    ],
)
def test_adjustment_validation(tenant_a, shop, extra, field):
    before = db_state()
    body = {
        "product_id": shop.mug.id,
        "warehouse_id": shop.main.id,
        "reason": "correction",
        **extra,
    }
    error = assert_error(post(tenant_a.staff, ADJUSTMENTS, body), 400, "validation_error")
    assert field in error["fields"]
    assert db_state() == before


def test_adjustment_below_zero_is_insufficient_stock(tenant_a, shop):
    before = db_state()
    body = {
        "product_id": shop.mug.id,
        "warehouse_id": shop.main.id,
        "change": -101,
        "reason": "loss",
    }
    error = assert_error(post(tenant_a.staff, ADJUSTMENTS, body), 409, "insufficient_stock")
    assert error["lines"] == [
        {
            "product_id": shop.mug.id,
            "warehouse_id": shop.main.id,
            "requested": 101,
            "available": 100,
        }
    ]
    assert db_state() == before


def test_adjustment_of_a_bundle_is_refused(tenant_a, shop):
    before = db_state()
    body = {
        "product_id": shop.gift_box.id,
        "warehouse_id": shop.main.id,
        "counted_quantity": 3,
        "reason": "count",
    }
    assert_error(post(tenant_a.staff, ADJUSTMENTS, body), 400, "validation_error")
    assert db_state() == before


# --- transfers -----------------------------------------------------------------------------


def test_transfer_moves_units_between_warehouses(tenant_a, shop):
    body = {
        "product_id": shop.mug.id,
        "from_warehouse_id": shop.main.id,
        "to_warehouse_id": shop.backup.id,
        "quantity": 40,
    }
    response = post(tenant_a.staff, TRANSFERS, body)

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["kind"], data["warehouse_id"], data["to_warehouse_id"], data["quantity"]) == (
        "transfer",
        shop.main.id,
        shop.backup.id,
        40,
    )
    entries = [
        (e["warehouse_id"], e["change"], e["quantity_after"], e["reason"])
        for e in data["ledger_entries"]
    ]
    assert entries == [
        (shop.main.id, -40, 60, "transfer_out"),
        (shop.backup.id, 40, 40, "transfer_in"),
    ]
    assert quantity_of(shop.mug, shop.main) == 60
    assert quantity_of(shop.mug, shop.backup) == 40

    back = {
        **body,
        "from_warehouse_id": shop.backup.id,
        "to_warehouse_id": shop.main.id,
        "quantity": 15,
    }
    assert post(tenant_a.staff, TRANSFERS, back).status_code == 201
    assert (quantity_of(shop.mug, shop.main), quantity_of(shop.mug, shop.backup)) == (75, 25)


def test_transfer_short_is_409_and_writes_nothing(tenant_a, shop):
    before = db_state()
    body = {
        "product_id": shop.coffee.id,
        "from_warehouse_id": shop.backup.id,
        "to_warehouse_id": shop.main.id,
        "quantity": 1,
    }
    error = assert_error(post(tenant_a.staff, TRANSFERS, body), 409, "insufficient_stock")
    assert error["lines"] == [
        {
            "product_id": shop.coffee.id,
            "warehouse_id": shop.backup.id,
            "requested": 1,
            "available": 0,
        }
    ]
    assert db_state() == before


def test_transfer_validation(tenant_a, shop, other_shop):
    before = db_state()
    base = {
        "product_id": shop.mug.id,
        "from_warehouse_id": shop.main.id,
        "to_warehouse_id": shop.backup.id,
        "quantity": 1,
    }
    cases = [
        ({"to_warehouse_id": shop.main.id}, "to_warehouse_id"),
        ({"to_warehouse_id": other_shop.main.id}, "to_warehouse_id"),
        ({"from_warehouse_id": other_shop.main.id}, "from_warehouse_id"),
        ({"product_id": shop.gift_box.id}, "product_id"),
        ({"quantity": 0}, "quantity"),
    ]
    for change, field in cases:
        error = assert_error(
            post(tenant_a.staff, TRANSFERS, {**base, **change}), 400, "validation_error"
        )
        assert field in error["fields"], (change, error)
    assert db_state() == before
    # Nothing was created in the destination by a refused transfer either.
    assert quantity_of(shop.mug, shop.backup) is None
