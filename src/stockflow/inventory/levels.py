"""Stock level rows: created before the transactions that fill them, and the copy of their
product's effective low-stock threshold kept on each.

Locks come from ``stockflow.locking``, which documents their order; the threshold rule is
``catalog.thresholds``. A level's threshold copy is written only here: when the level is
created (``ensure_stock_levels``, ``lock_effective_thresholds`` for the opening level of a
new product) and when what decides it changes (``copy_product_thresholds``,
``copy_type_threshold``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from stockflow import locking
from stockflow.catalog.models import Product, ProductType, Warehouse
from stockflow.catalog.thresholds import (
    effective_threshold,
    effective_threshold_sql,
    product_type_join_sql,
)
from stockflow.inventory.models import StockLevel
from stockflow.locking import LevelKey
from stockflow.sqlparams import datetime_param


def ensure_stock_levels(company_id: int, keys: Iterable[LevelKey]) -> None:
    """Create the company's missing stock levels among ``keys`` with quantity 0 and their product's
    effective threshold, in one statement (plus the threshold check below when a level
    was created).

    Call it before opening the transaction that will lock these levels: outside a transaction
    it commits at once, on its own (``stockflow.locking``). The company of each level is the
    product's; a pair whose product and warehouse belong to different companies, or whose
    product is a bundle, is skipped (bundles hold no stock). Existing levels are left
    untouched and no id is consumed for them (``NOT EXISTS`` before ``ON CONFLICT``, which
    remains for a concurrent insert).
    """
    keys = sorted(set(keys))
    if not keys:
        return
    pairs_sql = " OR ".join(["(p.id = %s AND w.id = %s)"] * len(keys))
    params: list = [datetime_param(timezone.now()), company_id]
    for product_id, warehouse_id in keys:
        params += [product_id, warehouse_id]
    level_table = StockLevel._meta.db_table
    sql = f"""
        INSERT INTO {level_table}
            (company_id, product_id, warehouse_id, quantity, low_stock_threshold, updated_at)
        SELECT p.company_id, p.id, w.id, 0, {effective_threshold_sql("p", "t")}, %s
        FROM {Product._meta.db_table} p
        JOIN {Warehouse._meta.db_table} w ON w.company_id = p.company_id
        {product_type_join_sql("p", "t")}
        WHERE p.company_id = %s AND ({pairs_sql})
          AND NOT p.is_bundle
          AND NOT EXISTS (
              SELECT 1 FROM {level_table} s
              WHERE s.company_id = p.company_id AND s.product_id = p.id AND s.warehouse_id = w.id
          )
        ORDER BY p.id, w.id
        ON CONFLICT (company_id, product_id, warehouse_id) DO NOTHING
        RETURNING id, product_id, low_stock_threshold
    """
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = cursor.fetchall()
        if created:
            _recheck_thresholds(company_id, created)


def _recheck_thresholds(company_id: int, created: list[tuple[int, int, int | None]]) -> None:
    """The INSERT read the thresholds without locks: a threshold change that committed
    meanwhile did not see the new (uncommitted) levels. Read them again under the locks of
    ``lock_effective_thresholds`` and correct the levels whose threshold changed (rare)."""
    thresholds = lock_effective_thresholds(company_id, (product_id for _, product_id, _ in created))
    stale: dict[int | None, list[int]] = {}
    for level_id, product_id, threshold in created:
        current = thresholds.get(product_id)
        if threshold != current:
            stale.setdefault(current, []).append(level_id)
    for threshold, level_ids in stale.items():
        StockLevel.objects.filter(company_id=company_id, id__in=level_ids).update(
            low_stock_threshold=threshold
        )


def lock_effective_thresholds(company_id: int, product_ids: Iterable[int]) -> dict[int, int | None]:
    """The effective low-stock threshold of each product (``None``: no threshold), read
    under ``locking.lock_threshold_sources``: none of them can change before this
    transaction commits. Call inside a transaction."""
    return {
        product_id: effective_threshold(own, type_threshold)
        for product_id, own, type_threshold in locking.lock_threshold_sources(
            company_id, product_ids
        )
    }


def copy_product_thresholds(company_id: int, product_ids: Iterable[int]) -> None:
    """Set the threshold copy of the stock levels of the company's ``product_ids`` to their
    product's effective threshold (read under ``lock_effective_thresholds``); one UPDATE per
    distinct threshold, of the levels whose copy differs. The caller has locked the levels,
    then the product rows (``stockflow.locking``)."""
    products_by_threshold: dict[int | None, list[int]] = {}
    for product_id, threshold in lock_effective_thresholds(company_id, product_ids).items():
        products_by_threshold.setdefault(threshold, []).append(product_id)
    for threshold, ids in products_by_threshold.items():
        levels = StockLevel.objects.filter(company_id=company_id, product_id__in=ids)
        _set_threshold(levels, threshold)


def copy_type_threshold(product_type: ProductType) -> None:
    """Set the threshold copy of the stock levels whose threshold is the product type's
    (those of its products without a threshold of their own) to its new threshold; one
    UPDATE. The caller has locked those levels, then the type row (``stockflow.locking``)."""
    company_id = product_type.company_id
    inheriting = Product.objects.filter(
        company_id=company_id, product_type_id=product_type.pk, low_stock_threshold__isnull=True
    ).values("id")
    threshold = effective_threshold(None, product_type.low_stock_threshold)
    _set_threshold(
        StockLevel.objects.filter(company_id=company_id, product_id__in=inheriting), threshold
    )


def _set_threshold(levels: QuerySet[StockLevel], threshold: int | None) -> None:
    levels.exclude(low_stock_threshold=threshold).update(low_stock_threshold=threshold)


# --- levels an operation fills --------------------------------------------------------------


def _prepare(company_id: int, keys: list[LevelKey]) -> Callable[[], None] | None:
    return partial(ensure_stock_levels, company_id, keys) if keys else None


def prepare_receipt(
    *, company_id: int, product_id: int, warehouse_id: int
) -> Callable[[], None] | None:
    """What to run before a receipt's transaction: create the level it fills."""
    return _prepare(company_id, [(product_id, warehouse_id)])


def prepare_receipt_lines(
    *, company_id: int, product_ids: Iterable[int], warehouse_id: int
) -> Callable[[], None] | None:
    """What to run before a multi-line receipt's transaction: create the levels it fills."""
    return _prepare(company_id, [(product_id, warehouse_id) for product_id in product_ids])


def prepare_adjustment(
    *,
    company_id: int,
    product_id: int,
    warehouse_id: int,
    change: int | None = None,
    counted_quantity: int | None = None,
) -> Callable[[], None] | None:
    """What to run before an adjustment's transaction: create the level when the adjustment
    may add units to it (a positive change, or a count above zero, which is more than a
    missing level holds)."""
    adds_units = (change or 0) > 0 or (counted_quantity or 0) > 0
    return _prepare(company_id, [(product_id, warehouse_id)] if adds_units else [])


def prepare_transfer(
    *, company_id: int, product_id: int, to_warehouse_id: int
) -> Callable[[], None] | None:
    """What to run before a transfer's transaction: create the destination level."""
    return _prepare(company_id, [(product_id, to_warehouse_id)])
