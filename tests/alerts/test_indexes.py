"""The indexes the low-stock report reads, and only those on the write-heavy tables.

* ``stock_level_low``: the partial index of the stock levels below their threshold.
* ``sale_product_wh_sold``: the sales of one (product, warehouse) in a window.
* Gone: the company-wide sale window index (alerts 0001, dropped by alerts 0002, which
  reverses), the old (warehouse, sold_at, product) sale index, and the single-column
  indexes of foreign keys that a composite index already starts with.
"""

from __future__ import annotations

import importlib

from django.db import connection

drop_migration = importlib.import_module(
    "stockflow.alerts.migrations.0002_drop_company_window_sale_index"
)


def indexes(table: str) -> dict:
    with connection.cursor() as cursor:
        return {
            name: info
            for name, info in connection.introspection.get_constraints(cursor, table).items()
            if (info["index"] or info["unique"]) and not info["primary_key"]
        }


def index_sql(name: str) -> str:
    query = (
        "SELECT indexdef FROM pg_indexes WHERE indexname = %s"
        if connection.vendor == "postgresql"
        else "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [name])
        return cursor.fetchone()[0]


def test_partial_index_of_the_low_stock_levels(db):
    low = indexes("inventory_stocklevel")["stock_level_low"]

    assert low["columns"] == ["company_id", "warehouse_id", "product_id"]
    predicate = index_sql("stock_level_low").split("WHERE")[-1]
    assert predicate.translate(str.maketrans("", "", '"()')).strip() == (
        "quantity < low_stock_threshold"
    )


def test_stock_levels_keep_no_redundant_index(db):
    expected = {
        "stock_level_one_per_product_warehouse": ["company_id", "product_id", "warehouse_id"],
        "stock_level_company_wh": ["company_id", "warehouse_id"],
        "stock_level_wh_product": ["warehouse_id", "product_id"],
        "stock_level_low": ["company_id", "warehouse_id", "product_id"],
    }
    if connection.vendor == "postgresql":
        # What the ledger's and events' same-company foreign keys reference.
        expected["inventory_stocklevel_company_id_id_key"] = ["company_id", "id"]
    assert {
        name: info["columns"] for name, info in indexes("inventory_stocklevel").items()
    } == expected


def test_sales_keep_only_the_indexes_something_reads(db):
    columns = {name: info["columns"] for name, info in indexes("inventory_sale").items()}

    assert columns.pop("sale_product_wh_sold") == [
        "product_id",
        "warehouse_id",
        "sold_at",
        "quantity",
    ]
    assert columns.pop("sale_company_id") == ["company_id", "id"]
    # The foreign keys no composite index starts with (a warehouse's history check, a
    # user's deletion).
    assert sorted(columns.values()) == [["created_by_id"], ["warehouse_id"]]


def test_company_window_index_is_dropped_and_the_drop_reverses(db):
    assert drop_migration.INDEX_NAME not in indexes("inventory_sale")

    with connection.cursor() as cursor:
        cursor.execute(drop_migration.CREATE_SALE_INDEX)
        assert indexes("inventory_sale")[drop_migration.INDEX_NAME]["columns"] == [
            "company_id",
            "sold_at",
            "warehouse_id",
            "product_id",
            "quantity",
        ]
        cursor.execute(drop_migration.DROP_SALE_INDEX)
        cursor.execute(drop_migration.DROP_SALE_INDEX)  # IF EXISTS: runs twice
    assert drop_migration.INDEX_NAME not in indexes("inventory_sale")
