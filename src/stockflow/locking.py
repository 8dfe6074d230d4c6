"""Every row lock StockFlow takes, and the one order they are taken in.

Where this module sits. It is below every app: it imports none of them and names their tables
through the app registry (``apps.get_model``) when a lock is taken. So ``tenancy``,
``catalog`` and ``inventory`` all take their locks here, and no layer has to import a layer
above it to do so (the apps depend on each other in one direction only: tenancy → catalog →
inventory → alerts; ``tests/test_layers.py`` checks it). The alternative, every lock-taking
write living at the inventory layer, would have moved the bundle and supplier edits, which
touch no stock, out of the catalog.

Lock order. A transaction takes the locks it needs in this order, never the other way round,
so no two transactions wait on each other in a cycle:

1. the company row (``lock_bundle_graph``), for an edit of the company's bundle graph;
   the company's purchase order counter row (``next_purchase_order_number``), for a new
   purchase order (no transaction takes both);
2. a purchase order row (``lock_purchase_order``), for any change of the order or its lines
   (receiving it, its status, a draft's edits);
3. stock levels, by id (``lock_stock_levels``, ``change_stock_level``,
   ``lock_stock_levels_of``, ``lock_stock_levels_inheriting``);
4. the product or warehouse row being changed or deleted (``lock_for_update``);
5. rows that the write only reads or references, ``FOR SHARE`` (``lock_for_share``,
   ``lock_threshold_sources``: the product rows, then the product types that decide a
   threshold, each in id order);
6. product–supplier links, by id (``lock_supplier_links``), whose observed lead time a
   receipt that completes an order updates, after the stock levels it received into.

A receipt against a purchase order therefore locks the order (2), then the stock levels of
its lines in one statement (3), then the links (6): two receipts of the same order run one
after the other, and the second sees what the first received.

The apply of an import (``dataio``) locks its job row first (``lock_for_update``: one apply
at a time per job), then, for a products file, the company's product imports
(``serialize_product_imports``: one such apply at a time per company), then, for a products
or stock count file, every level of the products it names (``lock_stock_levels_of_products``,
in id order, in chunks), before any other lock: its later rows lock those levels again
without waiting, so a file of many rows, in any order, takes its level locks in the one
order above. Each chunk of a products file then locks the products it updates
(``lock_rows``, step 4) and holds the warehouses and product types it references
(``lock_rows_for_share``, step 5). Two product imports of one company would otherwise wait
on each other through the unique indexes of the SKUs and type names they both create, which
no row lock orders: hence their serialization, taken before any row lock.

Stock levels come before products and warehouses because stock operations lock the levels
they change and only reference those rows. Memberships (``lock_for_update``, ``lock_members``) and
suppliers are locked by writes that take no other lock of this list, and so cannot be part
of a cycle.

The rules behind each lock:

* Missing stock levels are created *before* the transaction that changes them
  (``inventory.levels.ensure_stock_levels``, ``INSERT … ON CONFLICT DO NOTHING``, committed on
  its own). A transaction therefore never waits on the unique index of
  ``(product, warehouse)`` while it holds stock locks.
* A transaction that changes several stock levels locks all of them in ONE statement,
  ``lock_stock_levels`` (``ORDER BY id``). A transaction that changes a single level by a
  known amount may instead use the conditional ``UPDATE`` of ``change_stock_level``: it holds
  one stock lock only, so it cannot be part of a cycle either.
* ``FOR NO KEY UPDATE``, not ``FOR UPDATE``, on rows that stay: the foreign keys that point to
  them take ``KEY SHARE`` locks, which ``FOR NO KEY UPDATE`` (like a plain ``UPDATE``) does not
  block. Rows about to be deleted take ``FOR UPDATE``.
* Thresholds. A stock level carries its product's effective low-stock threshold
  (``catalog.thresholds``). Whoever creates levels reads the threshold under
  ``lock_threshold_sources``; whoever changes a threshold locks the stock levels it will
  update first (step 2), then the product or product type row, and updates the levels last.
  A level created while a threshold changes is therefore either seen by the change's UPDATE
  or created with the new threshold.
* A row that a write only references (the warehouse of a new product, the supplier of a new
  link) is held ``FOR SHARE`` until commit: PostgreSQL checks foreign keys at commit, and
  without the lock a concurrent delete could commit first and make the write fail late.
* Bundle graph edits (components, ``is_bundle``) are serialized on the company row, so two
  concurrent edits cannot each pass the cycle check and together make a cycle.

SQLite has no row locks: its transactions start with ``BEGIN IMMEDIATE`` (see settings), so
writers run one at a time and the same code stays correct there (the locking statements
below are plain reads on SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db import connection
from django.db.models import Model, Q
from django.utils import timezone

from stockflow import prepared
from stockflow.sqlparams import datetime_param

# (product id, warehouse id): the natural key of a stock level.
LevelKey = tuple[int, int]


@dataclass(slots=True)
class LockedLevel:
    id: int
    product_id: int
    warehouse_id: int
    quantity: int
    low_stock_threshold: int | None = None
    # Columns a ``LevelGuard`` asked ``change_stock_level`` to return.
    extra: tuple = ()


def _model(label: str) -> type[Model]:
    return apps.get_model(label)


def _table(label: str) -> str:
    return _model(label)._meta.db_table


def _share() -> str:
    return " FOR SHARE" if connection.vendor == "postgresql" else ""


# --- 1. the company row ---------------------------------------------------------------------


def lock_bundle_graph(company_id: int) -> None:
    """Serialize every edit of a company's bundle graph on its company row. ``FOR NO KEY
    UPDATE``: inserts that merely reference the company are not blocked."""
    list(
        _model("tenancy.Company")
        .objects.select_for_update(no_key=True)
        .filter(pk=company_id)
        .values_list("pk", flat=True)
    )


# --- 1b. purchase order numbers -------------------------------------------------------------


def next_purchase_order_number(company_id: int) -> int:
    """The company's next purchase order sequence number (1, 2, ...), taken in one upsert
    that locks its counter row until commit: two concurrent creations never get the same
    number, and a rolled-back creation gives its number back."""
    table = _table("purchasing.PurchaseOrderCounter")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (company_id, last_number) VALUES (%s, 1)"
            f" ON CONFLICT (company_id) DO UPDATE SET last_number = {table}.last_number + 1"
            " RETURNING last_number",
            [company_id],
        )
        return int(cursor.fetchone()[0])


def lock_purchase_order_counter(company_id: int) -> None:
    """Lock the company's purchase order counter row (created if missing) until commit,
    without taking a number: serializes the writes that decide what to order from the
    current state (``purchasing.services.create_orders_from_alerts``)."""
    table = _table("purchasing.PurchaseOrderCounter")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (company_id, last_number) VALUES (%s, 0)"
            f" ON CONFLICT (company_id) DO UPDATE SET last_number = {table}.last_number",
            [company_id],
        )


# --- 1c. product imports ----------------------------------------------------------------------

# The first key of the advisory locks of ``serialize_product_imports`` (the second is the
# company id): a constant of its own, so that no other advisory lock can collide with it.
PRODUCT_IMPORT_LOCK = 0x5F1A0001


def serialize_product_imports(company_id: int) -> None:
    """Wait until no other apply of a products import of the company runs, then hold that
    until commit (a transaction-level advisory lock, keyed by the company id's low 32 bits:
    companies whose ids share them would only wait on each other too). SQLite runs one
    writer at a time: nothing to do there."""
    if connection.vendor != "postgresql":
        return
    key = (company_id + 2**31) % 2**32 - 2**31  # the two-key form takes 32-bit integers
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PRODUCT_IMPORT_LOCK, key])


# --- 2. a purchase order -----------------------------------------------------------------------


def lock_purchase_order(order_id: int, company_id: int) -> Model | None:
    """The purchase order ``order_id`` of the company, locked (``FOR NO KEY UPDATE``) until
    commit; ``None`` if there is none."""
    return (
        _model("purchasing.PurchaseOrder")
        .objects.select_for_update(no_key=True)
        .filter(pk=order_id, company_id=company_id)
        .first()
    )


# --- 3. stock levels ------------------------------------------------------------------------


def lock_stock_levels(company_id: int, keys: Iterable[LevelKey]) -> dict[LevelKey, LockedLevel]:
    """Lock the company's existing stock levels among ``keys``, in id order, in one statement; return
    them by key. Missing levels are absent from the result (create them beforehand with
    ``inventory.levels.ensure_stock_levels`` when the operation adds stock). Call inside a
    transaction."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    match = Q()
    for product_id, warehouse_id in keys:
        match |= Q(product_id=product_id, warehouse_id=warehouse_id)
    rows = (
        _model("inventory.StockLevel")
        .objects.filter(match, company_id=company_id)
        .order_by("id")
        .select_for_update(no_key=True)
        .values_list("id", "product_id", "warehouse_id", "quantity", "low_stock_threshold")
    )
    return {(row[1], row[2]): LockedLevel(*row) for row in rows}


def lock_stock_levels_of_products(company_id: int, product_ids: Iterable[int]) -> int:
    """Lock every stock level of the company's ``product_ids``, in id order, ``chunk`` rows
    per statement (a whole import file's levels); return how many. Call inside a
    transaction."""
    level = _model("inventory.StockLevel")
    product_ids, ids = sorted(set(product_ids)), []
    for start in range(0, len(product_ids), LOCK_CHUNK):
        ids += level.objects.filter(
            company_id=company_id, product_id__in=product_ids[start : start + LOCK_CHUNK]
        ).values_list("id", flat=True)
    ids.sort()
    for start in range(0, len(ids), LOCK_CHUNK):
        list(
            level.objects.filter(company_id=company_id, id__in=ids[start : start + LOCK_CHUNK])
            .order_by("id")
            .select_for_update(no_key=True)
            .values_list("id", flat=True)
        )
    return len(ids)


LOCK_CHUNK = 1000


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
    company_id: int | None,
    key: LevelKey,
    change: int,
    *,
    guard: LevelGuard | None = None,
    now: datetime | None = None,
    cursor=None,
) -> LockedLevel | None:
    """Add ``change`` (negative to take stock out) to one stock level of the company if the result stays
    non-negative (and ``guard``'s conditions hold), locking the row for the rest of the
    transaction; one statement, on ``cursor`` if given (a caller running more statements
    saves opening one). ``now`` (default: the current time) is its ``updated_at``.

    ``company_id`` is the level's company; None only with a ``guard`` whose condition names
    the companies (a sale's fast path, before it knows the company).

    Returns the level after the change (with its threshold, for the stock events), or
    ``None`` when the level does not exist, holds too little or fails the guard (nothing was
    changed then)."""
    product_id, warehouse_id = key
    level = _table("inventory.StockLevel")
    if company_id is None and guard is None:
        raise ValueError("name the company of the stock level, or guard it by company")
    params = [change, datetime_param(now or timezone.now(), cursor and cursor.db)]
    company = "" if company_id is None else f"{level}.company_id = %s AND "
    joined = condition = returning = ""
    if guard is not None:
        joined = f"FROM {guard.tables}"
        condition = f"AND {guard.condition}"
        returning = f", {guard.returning}"
    sql = f"""
        UPDATE {level} SET quantity = {level}.quantity + %s, updated_at = %s
        {joined}
        WHERE {company}{level}.product_id = %s AND {level}.warehouse_id = %s
          AND {level}.quantity + %s >= 0 {condition}
        RETURNING {level}.id, {level}.quantity, {level}.low_stock_threshold{returning}
    """
    params += [*([] if company_id is None else [company_id]), product_id, warehouse_id, change]
    if guard is not None:
        params += guard.params
    # Every sale runs it: prepared once per connection (its text depends on the guard's, not
    # on the values).
    if cursor is None:
        with connection.cursor() as cursor:
            prepared.execute(cursor, sql, params)
            row = cursor.fetchone()
    else:
        prepared.execute(cursor, sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return LockedLevel(row[0], product_id, warehouse_id, row[1], row[2], tuple(row[3:]))


def lock_stock_levels_of(
    company_id: int,
    *,
    product_id: int | None = None,
    warehouse_id: int | None = None,
    no_key: bool = False,
) -> None:
    """Lock every stock level of a company's product or warehouse, in id order, in one statement:
    ``FOR UPDATE`` before they are deleted, ``no_key`` (``FOR NO KEY UPDATE``) before their
    threshold is updated."""
    filters = {
        name: value
        for name, value in (("product_id", product_id), ("warehouse_id", warehouse_id))
        if value is not None
    }
    if not filters:
        raise ValueError("name the product or the warehouse whose stock levels to lock")
    list(
        _model("inventory.StockLevel")
        .objects.select_for_update(no_key=no_key)
        .filter(company_id=company_id, **filters)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lock_stock_levels_inheriting(company_id: int, product_type_id: int) -> None:
    """Lock, in id order, the stock levels whose threshold is the product type's: those of
    its products without a threshold of their own. A type threshold change takes them before
    the type row. One statement; nothing to lock on SQLite."""
    if connection.vendor != "postgresql":
        return
    sql = f"""
        SELECT COUNT(*) FROM (
            SELECT s.id FROM {_table("inventory.StockLevel")} s
            WHERE s.company_id = %s AND s.product_id IN (
                SELECT p.id FROM {_table("catalog.Product")} p
                WHERE p.company_id = %s AND p.product_type_id = %s
                  AND p.low_stock_threshold IS NULL
            )
            ORDER BY s.id
            FOR NO KEY UPDATE OF s
        ) locked
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [company_id, company_id, product_type_id])


# --- 4. the row being changed or deleted ----------------------------------------------------


def lock_for_update(
    model: type[Model], pk: int, *, company_id: int | None, no_key: bool = False
) -> Model | None:
    """The row ``pk`` of ``model`` in the company, locked until commit (``no_key``: ``FOR NO
    KEY UPDATE``, for a row that stays; else ``FOR UPDATE``, for a row about to be deleted);
    ``None`` if it is gone. ``company_id`` None: a model that is not a tenant table."""
    rows = model.objects.select_for_update(no_key=no_key).filter(pk=pk)
    if company_id is not None:
        rows = rows.filter(company_id=company_id)
    return rows.first()


def lock_rows(model: type[Model], company_id: int, ids: Iterable[int]) -> dict[int, Model]:
    """The company's rows ``ids`` of ``model`` that exist, locked ``FOR NO KEY UPDATE`` in id
    order in one statement, by id (rows that stay: the products a bulk update changes)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = (
        model.objects.select_for_update(no_key=True)
        .filter(company_id=company_id, pk__in=ids)
        .order_by("pk")
    )
    return {row.pk: row for row in rows}


def lock_members(company_id: int, role: str) -> None:
    """Lock the memberships of a company that have ``role``, in id order (a membership
    change locks its own row first, then the company's owners, so two demotions or removals
    cannot both pass the last-owner check)."""
    list(
        _model("tenancy.Membership")
        .objects.select_for_update()
        .filter(company_id=company_id, role=role)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- 5. rows only read or referenced ----------------------------------------------------------


def lock_for_share(model: type[Model], pk: int, company_id: int) -> bool:
    """Hold a row of the company that the current write references until commit; False if
    it is gone."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE company_id = %s AND id = %s{_share()}", [company_id, pk]
        )
        return cursor.fetchone() is not None


def lock_rows_for_share(model: type[Model], company_id: int, ids: Iterable[int]) -> set[int]:
    """Hold the company's rows ``ids`` of ``model`` that a bulk write references (``FOR
    SHARE``, in id order, one statement) until commit; return the ids that exist."""
    ids = sorted(set(ids))
    if not ids:
        return set()
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE company_id = %s"
            f" AND id IN ({', '.join(['%s'] * len(ids))}) ORDER BY id{_share()}",
            [company_id, *ids],
        )
        return {row[0] for row in cursor.fetchall()}


def lock_threshold_sources(
    company_id: int, product_ids: Iterable[int]
) -> list[tuple[int, int | None, int | None]]:
    """What decides each of the company's products' threshold, held ``FOR SHARE`` until commit: the product
    rows, then the rows of the product types that decide a threshold (each in id order).
    Returns (product id, its own threshold, its type's threshold or None) for each product
    that exists; the rule that combines them is ``catalog.thresholds``."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, low_stock_threshold, product_type_id FROM {_table('catalog.Product')}"
            f" WHERE company_id = %s AND id IN ({', '.join(['%s'] * len(ids))})"
            f" ORDER BY id{_share()}",
            [company_id, *ids],
        )
        products = cursor.fetchall()
        # A type whose products all have their own threshold decides nothing: not locked.
        type_ids = sorted({type_id for _, own, type_id in products if own is None and type_id})
        type_thresholds: dict[int, int | None] = {}
        if type_ids:
            cursor.execute(
                f"SELECT id, low_stock_threshold FROM {_table('catalog.ProductType')}"
                f" WHERE company_id = %s AND id IN ({', '.join(['%s'] * len(type_ids))})"
                f" ORDER BY id{_share()}",
                [company_id, *type_ids],
            )
            type_thresholds = dict(cursor.fetchall())
    return [
        (product_id, own, type_thresholds.get(type_id) if own is None else None)
        for product_id, own, type_id in products
    ]


# --- 6. product-supplier links ------------------------------------------------------------------


def lock_supplier_links(company_id: int, supplier_id: int, product_ids: Iterable[int]) -> list:
    """The company's links of ``supplier_id`` to ``product_ids``, locked (``FOR NO KEY
    UPDATE``) in id order, in one statement."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    return list(
        _model("catalog.ProductSupplier")
        .objects.select_for_update(no_key=True)
        .filter(company_id=company_id, supplier_id=supplier_id, product_id__in=ids)
        .order_by("id")
    )
