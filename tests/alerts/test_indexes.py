"""The alerts migration adds the sale index the report's window scan uses, reversibly."""

from __future__ import annotations

import importlib

from django.db import connection

migration = importlib.import_module("stockflow.alerts.migrations.0001_low_stock_report_indexes")


def sale_indexes() -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, "inventory_sale")


def test_sale_window_index_exists_and_reverses(db):
    index = sale_indexes()[migration.INDEX_NAME]
    assert index["columns"] == ["company_id", "sold_at", "warehouse_id", "product_id", "quantity"]

    with connection.cursor() as cursor:
        cursor.execute(migration.DROP_SALE_INDEX)
        assert migration.INDEX_NAME not in sale_indexes()
        cursor.execute(migration.CREATE_SALE_INDEX)
        cursor.execute(migration.CREATE_SALE_INDEX)  # IF NOT EXISTS: runs twice
    assert migration.INDEX_NAME in sale_indexes()
