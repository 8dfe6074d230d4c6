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
5. Thresholds. A stock level carries its product's effective low-stock threshold. Whoever
   creates levels reads that threshold with ``lock_effective_thresholds`` (the product rows,
   then the rows of the product types that decide it, ``FOR SHARE``); whoever changes a
   threshold (``catalog.services``) locks the stock levels it will update first, then the
   product or product type row, and updates the levels last. Order everywhere: stock levels,
   products, product types. A level created while a threshold changes is therefore either
   seen by the change's UPDATE or created with the new threshold.

SQLite has no row locks: its transactions start with ``BEGIN IMMEDIATE`` (see settings), so
writers run one at a time and the same code stays correct there (``select_for_update`` is a
no-op on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from stockflow.api.sqlparams import datetime_param
from stockflow.catalog.models import Product, ProductType, Warehouse
from stockflow.inventory.models import StockLevel

# (product id, warehouse id): the natural key of a stock level.
LevelKey = tuple[int, int]


@dataclass(slots=True)
class LockedLevel:
    id: int
    product_id: int
    warehouse_id: int
    quantity: int
    # Columns a ``LevelGuard`` asked ``change_stock_level`` to return.
    extra: tuple = ()


def _sorted_unique(keys: Iterable[LevelKey]) -> list[LevelKey]:
    return sorted(set(keys))


def ensure_stock_levels(keys: Iterable[LevelKey]) -> None:
    """Create the missing stock levels among ``keys`` with quantity 0 and their product's
    effective threshold, in one statement (plus the threshold check of rule 5 when a level
    was created).

    Call it before opening the transaction that will lock these levels: outside a transaction
    it commits at once, on its own. The company of each level is the product's; a pair
    whose product and warehouse belong to different companies, or whose product is a bundle, is
    skipped (bundles hold no stock). Existing levels are left untouched and no id is consumed
    for them (``NOT EXISTS`` before ``ON CONFLICT``, which remains for a concurrent insert).
    """
    keys = _sorted_unique(keys)
    if not keys:
        return
    pairs_sql = " OR ".join(["(p.id = %s AND w.id = %s)"] * len(keys))
    params: list = [datetime_param(timezone.now())]
    for product_id, warehouse_id in keys:
        params += [product_id, warehouse_id]
    level_table = StockLevel._meta.db_table
    sql = f"""
        INSERT INTO {level_table}
            (company_id, product_id, warehouse_id, quantity, low_stock_threshold, updated_at)
        SELECT p.company_id, p.id, w.id, 0,
               COALESCE(p.low_stock_threshold, t.low_stock_threshold), %s
        FROM {Product._meta.db_table} p
        JOIN {Warehouse._meta.db_table} w ON w.company_id = p.company_id
        LEFT JOIN {ProductType._meta.db_table} t ON t.id = p.product_type_id
        WHERE ({pairs_sql})
          AND NOT p.is_bundle
          AND NOT EXISTS (
              SELECT 1 FROM {level_table} s WHERE s.product_id = p.id AND s.warehouse_id = w.id
          )
        ORDER BY p.id, w.id
        ON CONFLICT (product_id, warehouse_id) DO NOTHING
        RETURNING id, product_id, low_stock_threshold
    """
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = cursor.fetchall()
        if created:
            _recheck_thresholds(created)


def _recheck_thresholds(created: list[tuple[int, int, int | None]]) -> None:
    """The INSERT read the thresholds without locks: a threshold change that committed
    meanwhile did not see the new (uncommitted) levels. Read them again under the locks of
    rule 5 and correct the levels whose threshold changed (rare)."""
    thresholds = lock_effective_thresholds(product_id for _, product_id, _ in created)
    stale: dict[int | None, list[int]] = {}
    for level_id, product_id, threshold in created:
        current = thresholds.get(product_id)
        if threshold != current:
            stale.setdefault(current, []).append(level_id)
    for threshold, level_ids in stale.items():
        StockLevel.objects.filter(id__in=level_ids).update(low_stock_threshold=threshold)


def lock_effective_thresholds(product_ids: Iterable[int]) -> dict[int, int | None]:
    """The effective low-stock threshold of each product: its own, else its product type's
    (``None``: no threshold). The product rows, then the rows of the types that decide a
    threshold, are held ``FOR SHARE`` until commit (each in id order), so no threshold read
    here can change before this transaction commits (rule 5). Call inside a transaction;
    SQLite runs one writer at a time and takes no lock."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    share = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, low_stock_threshold, product_type_id FROM {Product._meta.db_table}"
            f" WHERE id IN ({', '.join(['%s'] * len(ids))}) ORDER BY id{share}",
            ids,
        )
        products = cursor.fetchall()
        type_ids = sorted({type_id for _, own, type_id in products if own is None and type_id})
        type_thresholds: dict[int, int | None] = {}
        if type_ids:
            cursor.execute(
                f"SELECT id, low_stock_threshold FROM {ProductType._meta.db_table}"
                f" WHERE id IN ({', '.join(['%s'] * len(type_ids))}) ORDER BY id{share}",
                type_ids,
            )
            type_thresholds = dict(cursor.fetchall())
    return {
        product_id: own if own is not None else type_thresholds.get(type_id)
        for product_id, own, type_id in products
    }


def lock_stock_levels_inheriting(product_type_id: int) -> None:
    """Lock, in id order, the stock levels whose threshold is the product type's: those of
    its products without a threshold of their own. A type threshold change takes them before
    the type row (rule 5). One statement; nothing to lock on SQLite."""
    if connection.vendor != "postgresql":
        return
    sql = f"""
        SELECT COUNT(*) FROM (
            SELECT s.id FROM {StockLevel._meta.db_table} s
            WHERE s.product_id IN (
                SELECT p.id FROM {Product._meta.db_table} p
                WHERE p.product_type_id = %s AND p.low_stock_threshold IS NULL
            )
            ORDER BY s.id
            FOR NO KEY UPDATE OF s
        ) locked
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [product_type_id])


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


@dataclass(frozen=True, slots=True)
class LevelGuard:
    """More conditions for ``change_stock_level``, checked by the same statement: tables
    joined (``FROM``), a condition over them and the level's table (named by its table
    name), its parameters, and more columns to return (``LockedLevel.extra``)."""

    tables: str
    condition: str
    params: Sequence
    returning: str


def change_stock_level(
    key: LevelKey,
    change: int,
    *,
    guard: LevelGuard | None = None,
    now: datetime | None = None,
    cursor=None,
) -> LockedLevel | None:
    """Add ``change`` (negative to take stock out) to one stock level if the result stays
    non-negative (and ``guard``'s conditions hold), locking the row for the rest of the
    transaction; one statement, on ``cursor`` if given (a caller running more statements
    saves opening one). ``now`` (default: the current time) is its ``updated_at``.

    Returns the level after the change, or ``None`` when the level does not exist, holds
    too little or fails the guard (nothing was changed then)."""
    product_id, warehouse_id = key
    level = StockLevel._meta.db_table
    params = [change, datetime_param(now or timezone.now(), cursor and cursor.db)]
    joined = condition = returning = ""
    if guard is not None:
        joined = f"FROM {guard.tables}"
        condition = f"AND {guard.condition}"
        returning = f", {guard.returning}"
    sql = f"""
        UPDATE {level} SET quantity = {level}.quantity + %s, updated_at = %s
        {joined}
        WHERE {level}.product_id = %s AND {level}.warehouse_id = %s
          AND {level}.quantity + %s >= 0 {condition}
        RETURNING {level}.id, {level}.quantity{returning}
    """
    params += [product_id, warehouse_id, change]
    if guard is not None:
        params += guard.params
    if cursor is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    else:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return LockedLevel(row[0], product_id, warehouse_id, row[1], tuple(row[2:]))
