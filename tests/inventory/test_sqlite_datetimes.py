"""On SQLite a datetime is text: every datetime column holds one format, the ORM's (naive
UTC, ``2026-01-31 09:30:00.123456``), whichever statement wrote it (the ORM, or the raw SQL
of the stock locks, the sale's fast path and the Idempotency-Key claim). Mixed formats would
compare and sort wrongly as text."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from stockflow.api.models import IdempotencyKey
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel, StockMovement

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="PostgreSQL stores timestamptz, not text"
    ),
]

ORM_FORMAT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?")

COLUMNS = [
    (StockLevel, "updated_at"),
    (Sale, "sold_at"),
    (Sale, "created_at"),
    (LedgerEntry, "created_at"),
    (StockMovement, "created_at"),
    (IdempotencyKey, "created_at"),
]


def raw_values(model, field: str) -> list[tuple[str, str]]:
    """The stored values as SQLite holds them (``CAST`` bypasses the datetime converter)."""
    column = model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT typeof({column}), CAST({column} AS TEXT) FROM {model._meta.db_table}"
        )
        return cursor.fetchall()


def test_every_path_stores_datetimes_in_the_orms_format(tenant_a, shop):
    staff = tenant_a.staff
    post = staff.post
    # A receipt into a level that does not exist yet (created by raw SQL before the
    # transaction), a plain sale (the fast path's raw UPDATE and INSERTs), a sale with an
    # Idempotency-Key (the raw claim, then the complete path's conditional UPDATE), a bundle
    # sale, a transfer and an adjustment (the ORM).
    receipt = {"product_id": shop.mug.id, "warehouse_id": shop.backup.id, "quantity": 5}
    sale = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}
    bundle = {"product_id": shop.gift_box.id, "warehouse_id": shop.main.id, "quantity": 1}
    dated = {**sale, "sold_at": "2025-06-01T12:00:00+02:00"}
    transfer = {
        "product_id": shop.coffee.id,
        "from_warehouse_id": shop.main.id,
        "to_warehouse_id": shop.backup.id,
        "quantity": 2,
    }
    adjustment = {**sale, "reason": "damage", "change": -1}
    answers = [
        post("/api/stock/receipts", receipt, format="json"),
        post("/api/sales", sale, format="json"),
        post("/api/sales", sale, format="json", HTTP_IDEMPOTENCY_KEY="once"),
        post("/api/sales", bundle, format="json"),
        post("/api/sales", dated, format="json"),
        post("/api/stock/transfers", transfer, format="json"),
        post("/api/stock/adjustments", adjustment, format="json"),
    ]
    assert [answer.status_code for answer in answers] == [201] * len(answers)

    for model, field in COLUMNS:
        values = raw_values(model, field)
        assert values, (model, field)
        for kind, text in values:
            assert kind == "text" and ORM_FORMAT.fullmatch(text), (model.__name__, field, text)
    # The dated sale is stored in UTC, as the ORM would store it.
    assert ("text", "2025-06-01 10:00:00") in raw_values(Sale, "sold_at")
