"""A sales history (an import's sales: no stock taken, no ledger entry) written in bulk
(``write_sales_history``) stores exactly the rows of the service that builds the ``Sale``
objects (``record_sales_history``): the same values in the same stored form, and the same
refusals. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection, transaction
from rest_framework.exceptions import ValidationError

from stockflow.inventory import sales
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel
from tests.factories import make_product, make_tenant, make_warehouse

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


class Rollback(Exception):
    """Leaves the savepoint of one write: both writes start from the same data."""


def stored_rows() -> list[tuple]:
    """Every sale as the database holds it: each column read as text (the stored form:
    SQLite's datetime and decimal text, PostgreSQL's timestamptz and numeric scale)."""
    columns = ", ".join(f"CAST({column} AS TEXT)" for column in sales.HISTORY_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {Sale._meta.db_table} ORDER BY id")
        return cursor.fetchall()


def written_by(write, **kwargs) -> list[tuple]:
    try:
        with transaction.atomic():
            write(**kwargs)
            rows = stored_rows()
            assert not LedgerEntry.objects.filter(reason="sale").exists()
            raise Rollback
    except Rollback:
        return rows


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr(sales.timezone, "now", lambda: NOW)


def test_the_bulk_write_stores_the_rows_of_the_service(frozen_now, monkeypatch):
    tenant = make_tenant()
    main = make_warehouse(tenant.company, "MAIN")
    back = make_warehouse(tenant.company, "BACK")
    mug = make_product(tenant.company, "MUG", warehouse=main, quantity=5, price="4.00")
    cup = make_product(tenant.company, "CUP", warehouse=back, quantity=1, price="0.50")
    actor = tenant.users["staff"]
    east = timezone(timedelta(hours=5, minutes=30))
    history = [
        (mug, main, 3, Decimal("3.50"), datetime(2026, 1, 5, 10, 0, tzinfo=UTC)),
        (mug, back, 1, Decimal("0"), datetime(2026, 1, 5, 10, 0, 0, 999999, tzinfo=UTC)),
        (cup, main, 2_000_000, Decimal("99999999.99"), datetime(2025, 12, 31, 23, 30, tzinfo=east)),
        (cup, back, 7, Decimal("0.01"), NOW),
        (mug, main, 1, Decimal("12.3"), datetime(2020, 2, 29, 0, 0, tzinfo=UTC)),
    ]
    rows = [
        {"product": p, "warehouse": w, "quantity": q, "unit_price": price, "sold_at": at}
        for p, w, q, price, at in history
    ]
    levels = list(StockLevel.objects.order_by("id").values_list("id", "quantity"))
    monkeypatch.setattr(sales, "HISTORY_INSERT_ROWS", 2)  # PostgreSQL: three INSERTs
    for actor_of_the_import in (actor, None):
        kwargs = {"company_id": tenant.company.pk, "sales": rows, "actor": actor_of_the_import}
        by_service = written_by(sales.record_sales_history, **kwargs)
        in_bulk = written_by(sales.write_sales_history, **kwargs)
        assert len(by_service) == len(history)
        assert in_bulk == by_service
    # Read back through the ORM, the values are the ones given (no stock taken).
    sales.write_sales_history(company_id=tenant.company.pk, sales=rows, actor=actor)
    read = Sale.objects.order_by("id").values_list(
        "product_id", "warehouse_id", "quantity", "unit_price", "sold_at", "created_by_id"
    )
    assert list(read) == [(p.pk, w.pk, q, price, at, actor.pk) for p, w, q, price, at in history]
    assert list(StockLevel.objects.order_by("id").values_list("id", "quantity")) == levels


def test_the_bulk_write_refuses_what_the_service_refuses(frozen_now):
    tenant, other = make_tenant(), make_tenant()
    main = make_warehouse(tenant.company, "MAIN")
    closed = make_warehouse(tenant.company, "SHUT", is_active=False)
    mug = make_product(tenant.company, "MUG", warehouse=main)
    theirs = make_product(other.company, "THEIRS", warehouse=make_warehouse(other.company))
    good = {"product": mug, "warehouse": main, "quantity": 1, "unit_price": Decimal("1")}
    good["sold_at"] = NOW
    for bad in (
        {"product": theirs},
        {"warehouse": closed},
        {"quantity": 0},
        {"sold_at": NOW + timedelta(days=1)},
    ):
        messages = []
        for write in (sales.record_sales_history, sales.write_sales_history):
            with pytest.raises(ValidationError) as refusal, transaction.atomic():
                write(company_id=tenant.company.pk, sales=[good, {**good, **bad}])
            messages.append(refusal.value.detail)
        assert messages[0] == messages[1], bad
    assert not Sale.objects.exists()
    assert sales.write_sales_history(company_id=tenant.company.pk, sales=[]) == 0
