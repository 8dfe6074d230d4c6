"""A stock count import writes what the same counts sent one by one through the API write:
the same levels, movements and ledger entries (modulo ids, timestamps and what they refer
to) and stock events. The import writes a chunk in a few statements
(``inventory.movements.count_stocks``), the API one adjustment per request; on PostgreSQL
both statement forms of ``bulkinsert`` are compared."""

from __future__ import annotations

from collections import Counter

import pytest

from stockflow import bulkinsert
from stockflow.inventory.models import (
    LedgerEntry,
    ReferenceType,
    StockEvent,
    StockLevel,
    StockMovement,
)
from tests.factories.imports import applied, import_shop, stocked, verify_stock

pytestmark = pytest.mark.django_db

COUNTS = [
    ("C-1", "MAIN", 7),  # fewer
    ("C-1", "BACK", 4),  # a level that does not exist yet
    ("C-2", "MAIN", 2),  # below its threshold: a stock.low event
    ("C-3", "BACK", 0),  # no level and none counted: the count alone is recorded
    ("C-4", "MAIN", 3),  # as it was: the count alone is recorded
    ("C-4", "BACK", 0),  # empty: a level counted empty
]


def prepared_shop(prefix: str):
    shop = import_shop()
    stocked(shop, prefix + "C-1", 10)
    stocked(shop, prefix + "C-2", 5, low_stock_threshold=4)
    stocked(shop, prefix + "C-3")
    stocked(shop, prefix + "C-4", 3)
    return shop


def state(shop, prefix: str) -> dict:
    company = shop.company
    roles = {user.pk: role for role, user in shop.tenant.users.items()}
    levels = {
        (level.product.sku.removeprefix(prefix), level.warehouse.code): (
            level.quantity,
            level.low_stock_threshold,
        )
        for level in StockLevel.objects.filter(company=company).select_related(
            "product", "warehouse"
        )
    }
    movements = sorted(
        (
            m.product.sku.removeprefix(prefix),
            m.warehouse.code,
            m.kind,
            m.quantity,
            m.counted_quantity,
            m.adjustment_reason,
            roles.get(m.created_by_id),
        )
        for m in StockMovement.objects.filter(company=company).select_related(
            "product", "warehouse"
        )
    )
    sums: Counter = Counter()
    entries = []
    for entry in LedgerEntry.objects.filter(company=company).select_related("product", "warehouse"):
        place = (entry.product.sku.removeprefix(prefix), entry.warehouse.code)
        sums[place] += entry.change
        movement = None
        if entry.reference_type == ReferenceType.MOVEMENT:
            movement = StockMovement.objects.filter(pk=entry.reference_id).first()
        entries.append(
            (
                *place,
                entry.change,
                entry.quantity_after,
                entry.reason,
                entry.adjustment_reason,
                entry.reference_type,
                # An entry of a count refers to the count's movement, of its product and place.
                movement is not None
                and (movement.product_id, movement.warehouse_id)
                == (entry.product_id, entry.warehouse_id),
                roles.get(entry.actor_id),
            )
        )
    events = sorted(
        (
            event.type,
            event.product.sku.removeprefix(prefix),
            event.warehouse.code,
            event.data["quantity_before"],
            event.data["quantity_after"],
        )
        for event in StockEvent.objects.filter(
            company=company, stock_level__isnull=False
        ).select_related("product", "warehouse")
    )
    return {
        "levels": levels,
        "movements": movements,
        "ledger_sums": dict(sums),
        "ledger_rows": sorted(entries, key=repr),
        "events": events,
    }


@pytest.mark.parametrize("arrays_min_rows", [1, bulkinsert.ARRAYS_MIN_ROWS])
def test_a_stock_count_import_writes_what_the_api_writes(monkeypatch, arrays_min_rows):
    monkeypatch.setattr(bulkinsert, "ARRAYS_MIN_ROWS", arrays_min_rows)
    imported, sent = prepared_shop("I-"), prepared_shop("A-")

    text = "sku,warehouse,counted_quantity\n" + "".join(
        f"I-{sku},{code},{counted}\n" for sku, code, counted in COUNTS
    )
    job = applied(imported.tenant.staff, imported.company.pk, "stock_counts", text)
    assert job["status"] == "applied", job["errors"]
    warehouses = {"MAIN": sent.main, "BACK": sent.back}
    for sku, code, counted in COUNTS:
        product = sent.company.products.get(sku="A-" + sku)
        body = {
            "product_id": product.pk,
            "warehouse_id": warehouses[code].pk,
            "reason": "count",
            "counted_quantity": counted,
        }
        response = sent.tenant.staff.post("/api/stock/adjustments", body, format="json")
        assert response.status_code == 201, response.content

    expected = state(sent, "A-")
    assert state(imported, "I-") == expected
    assert expected["levels"][("C-1", "BACK")] == (4, None)
    assert expected["levels"][("C-2", "MAIN")] == (2, 4)
    assert ("C-3", "BACK") not in expected["levels"]
    assert len(expected["movements"]) == len(COUNTS)
    # The opening stock of C-2 (5, threshold 4) was replenished; the count takes it below.
    assert [event[:3] for event in expected["events"]] == [
        ("stock.low", "C-2", "MAIN"),
        ("stock.replenished", "C-2", "MAIN"),
    ]
    verify_stock()
