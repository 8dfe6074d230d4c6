"""How stock rows are locked: the one module that decides it.

Rules, so that concurrent stock operations can neither lose an update nor deadlock:

1. Missing stock levels are created *before* the transaction that changes them, by
   ``ensure_stock_levels`` (``INSERT … ON CONFLICT DO NOTHING``), which commits on its own when
   called outside a transaction. A transaction therefore never waits on the unique index of
   ``(product, warehouse)`` while it holds stock locks.
2. A transaction that changes several stock levels locks all of them in ONE statement,
   ``lock_stock_levels``: ``SELECT … ORDER BY id FOR NO KEY UPDATE``. Every transaction takes its
   locks in the same (id) order, so no two can wait on each other in a cycle.
3. A transaction that changes a single stock level by a known amount may instead use the
   conditional ``UPDATE`` of ``change_stock_level``: the row is locked, checked and changed in
   one statement. It holds one stock lock only, so it cannot be part of a cycle either.
4. ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: the ledger's foreign key to the stock level takes
   ``KEY SHARE`` locks, which ``FOR NO KEY UPDATE`` (like a plain ``UPDATE``) does not block.

SQLite has no row locks: its transactions start with ``BEGIN IMMEDIATE`` (see settings), so
writers run one at a time and the same code stays correct there (``select_for_update`` is a
no-op on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from stockflow.catalog.models import Product, Warehouse
from stockflow.inventory.models import StockLevel

# (product id, warehouse id): the natural key of a stock level.
LevelKey = tuple[int, int]


@dataclass(slots=True)
class LockedLevel:
    id: int
    product_id: int
    warehouse_id: int
    quantity: int


def _sorted_unique(keys: Iterable[LevelKey]) -> list[LevelKey]:
    return sorted(set(keys))


def ensure_stock_levels(keys: Iterable[LevelKey]) -> None:
    """Create the missing stock levels among ``keys`` with quantity 0, in one statement.

    Call it before opening the transaction that will lock these levels: outside a transaction
    the insert commits at once, on its own. The company of each level is the product's; a pair
    whose product and warehouse belong to different companies, or whose product is a bundle, is
    skipped (bundles hold no stock). Existing levels are left untouched and no id is consumed
    for them (``NOT EXISTS`` before ``ON CONFLICT``, which remains for a concurrent insert).
    """
    keys = _sorted_unique(keys)
    if not keys:
        return
    pairs_sql = " OR ".join(["(p.id = %s AND w.id = %s)"] * len(keys))
    params: list = [timezone.now()]
    for product_id, warehouse_id in keys:
        params += [product_id, warehouse_id]
    level_table = StockLevel._meta.db_table
    sql = f"""
        INSERT INTO {level_table} (company_id, product_id, warehouse_id, quantity, updated_at)
        SELECT p.company_id, p.id, w.id, 0, %s
        FROM {Product._meta.db_table} p, {Warehouse._meta.db_table} w
        WHERE ({pairs_sql})
          AND p.company_id = w.company_id
          AND NOT p.is_bundle
          AND NOT EXISTS (
              SELECT 1 FROM {level_table} s WHERE s.product_id = p.id AND s.warehouse_id = w.id
          )
        ORDER BY p.id, w.id
        ON CONFLICT (product_id, warehouse_id) DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def lock_stock_levels(keys: Iterable[LevelKey]) -> dict[LevelKey, LockedLevel]:
    """Lock the existing stock levels among ``keys``, in id order, in one statement; return
    them by key. Missing levels are absent from the result (create them beforehand with
    ``ensure_stock_levels`` when the operation adds stock). Call inside a transaction."""
    keys = _sorted_unique(keys)
    if not keys:
        return {}
    match = Q()
    for product_id, warehouse_id in keys:
        match |= Q(product_id=product_id, warehouse_id=warehouse_id)
    rows = (
        StockLevel.objects.filter(match)
        .order_by("id")
        .select_for_update(no_key=True)
        .values_list("id", "product_id", "warehouse_id", "quantity")
    )
    return {(row[1], row[2]): LockedLevel(*row) for row in rows}


def change_stock_level(key: LevelKey, change: int) -> LockedLevel | None:
    """Add ``change`` (negative to take stock out) to one stock level if the result stays
    non-negative, locking the row for the rest of the transaction; one statement.

    Returns the level after the change, or ``None`` when the level does not exist or holds
    too little (nothing was changed then)."""
    product_id, warehouse_id = key
    sql = f"""
        UPDATE {StockLevel._meta.db_table}
        SET quantity = quantity + %s, updated_at = %s
        WHERE product_id = %s AND warehouse_id = %s AND quantity + %s >= 0
        RETURNING id, quantity
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [change, timezone.now(), product_id, warehouse_id, change])
        row = cursor.fetchone()
    if row is None:
        return None
    return LockedLevel(id=row[0], product_id=product_id, warehouse_id=warehouse_id, quantity=row[1])
