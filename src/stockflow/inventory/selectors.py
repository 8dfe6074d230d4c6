"""Read queries of the inventory: stock per warehouse, and the invariant checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    DateField,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL

from stockflow.catalog.bundles import bundle_leaves_cte, bundle_parts_cte
from stockflow.catalog.models import BundleComponent, Product, Warehouse
from stockflow.catalog.thresholds import (
    effective_threshold_sql,
    product_threshold,
    product_type_join_sql,
)
from stockflow.inventory.incoming import incoming_columns
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel, StockMovement


def effective_threshold():
    """The low-stock threshold of a stock level's product (its own, else its type's), as the
    service layer keeps it on the level itself (``verify_stock`` checks the copy)."""
    return F("low_stock_threshold")


def with_incoming(queryset: QuerySet, *, product: str, warehouse: str, company: str) -> QuerySet:
    """Annotate ``on_order``, ``on_draft`` and ``next_expected_date`` (``inventory.incoming``)
    for the (product, warehouse) named by the SQL expressions ``product`` and ``warehouse``."""
    columns = incoming_columns(product=product, warehouse=warehouse, company=company)
    return queryset.annotate(
        on_order=RawSQL(columns["on_order"], (), output_field=BigIntegerField()),
        on_draft=RawSQL(columns["on_draft"], (), output_field=BigIntegerField()),
        next_expected_date=RawSQL(columns["next_expected_date"], (), output_field=DateField()),
    )


def stock_levels_with_threshold(queryset: QuerySet[StockLevel]) -> QuerySet[StockLevel]:
    """Stock levels with their product and warehouse, ``effective_threshold``,
    ``below_threshold`` (quantity < threshold; no threshold, never below) and what is on
    order for them, in one query."""
    level = connection.ops.quote_name(StockLevel._meta.db_table)
    queryset = with_incoming(
        queryset,
        product=f"{level}.product_id",
        warehouse=f"{level}.warehouse_id",
        company=f"{level}.company_id",
    )
    return (
        queryset.select_related("product", "warehouse")
        .annotate(effective_threshold=effective_threshold())
        .annotate(
            below_threshold=Case(
                When(quantity__lt=F("effective_threshold"), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def below_threshold(queryset: QuerySet[StockLevel], value: bool) -> QuerySet[StockLevel]:
    below = Q(effective_threshold__isnull=False, quantity__lt=F("effective_threshold"))
    return queryset.filter(below) if value else queryset.exclude(below)


def product_stock(product: Product) -> dict:
    """The stock of one product in every warehouse of its company, warehouses without a stock
    level included (quantity 0). For a bundle, the quantity in a warehouse is the number of
    bundles its components' stock can make there (min of floor(stock / units per bundle)).
    Each warehouse also shows what is on order for the product there. Two queries."""
    warehouse = connection.ops.quote_name(Warehouse._meta.db_table)
    warehouses = list(
        with_incoming(
            Warehouse.objects.filter(company_id=product.company_id),
            product=str(int(product.id)),
            warehouse=f"{warehouse}.id",
            company=f"{warehouse}.company_id",
        )
        .order_by("id")
        .values("id", "code", "name", "is_active", "on_order", "on_draft", "next_expected_date")
    )
    if product.is_bundle:
        quantities = {
            row["warehouse_id"]: row["available"]
            for row in bundle_availability([product.id], company_ids=[product.company_id])[
                product.id
            ]
        }
        level_ids: dict[int, int] = {}
    else:
        levels = StockLevel.objects.filter(
            company_id=product.company_id, product_id=product.id
        ).values_list("warehouse_id", "id", "quantity")
        quantities = {wh: qty for wh, _, qty in levels}
        level_ids = {wh: level_id for wh, level_id, _ in levels}
    rows = [
        {
            "warehouse_id": w["id"],
            "warehouse_code": w["code"],
            "warehouse_name": w["name"],
            "warehouse_is_active": w["is_active"],
            "stock_level_id": level_ids.get(w["id"]),
            "quantity": quantities.get(w["id"], 0),
            "on_order": w["on_order"],
            "on_draft": w["on_draft"],
            "next_expected_date": w["next_expected_date"],
        }
        for w in warehouses
    ]
    return {
        "product_id": product.id,
        "sku": product.sku,
        "name": product.name,
        "is_bundle": product.is_bundle,
        "low_stock_threshold": product_threshold(product),
        "total_quantity": sum(row["quantity"] for row in rows),
        "warehouses": rows,
    }


def bundle_availability(
    bundle_ids: Sequence[int], *, company_ids: Iterable[int]
) -> dict[int, list[dict[str, int]]]:
    """Units of each bundle that can be assembled, per warehouse, for many bundles at once:
    the minimum over its leaf components of floor(component stock / units per bundle).

    Warehouses are those where at least one leaf component has a stock level; a leaf with
    no stock level there counts as 0. Ordered by warehouse id. One query for the whole list.
    """
    bundle_ids = sorted({int(pk) for pk in bundle_ids})
    company_ids = sorted({int(pk) for pk in company_ids})
    result: dict[int, list[dict[str, int]]] = {pk: [] for pk in bundle_ids}
    if not bundle_ids or not company_ids:
        return result
    levels = StockLevel._meta.db_table
    roots = ", ".join(f"%(bundle_{index})s" for index in range(len(bundle_ids)))
    companies = ", ".join(f"%(company_{index})s" for index in range(len(company_ids)))
    sql = f"""
        WITH RECURSIVE
        {bundle_parts_cte(company=f"bc.company_id IN ({companies})", roots=f"bc.bundle_id IN ({roots})")},
        {bundle_leaves_cte()},
        places(bundle_id, warehouse_id) AS (
            SELECT DISTINCT leaves.bundle_id, sl.warehouse_id
            FROM bundle_leaves leaves JOIN {levels} sl
                ON sl.product_id = leaves.product_id AND sl.company_id = leaves.company_id
        )
        SELECT places.bundle_id, places.warehouse_id,
               MIN(COALESCE(sl.quantity, 0) / leaves.units)
        FROM places
        JOIN bundle_leaves leaves ON leaves.bundle_id = places.bundle_id
        LEFT JOIN {levels} sl
            ON sl.product_id = leaves.product_id AND sl.warehouse_id = places.warehouse_id
            AND sl.company_id = leaves.company_id
        GROUP BY places.bundle_id, places.warehouse_id
        ORDER BY places.bundle_id, places.warehouse_id
    """
    params = {f"bundle_{index}": pk for index, pk in enumerate(bundle_ids)}
    params |= {f"company_{index}": pk for index, pk in enumerate(company_ids)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for bundle_id, warehouse_id, available in cursor.fetchall():
            result[int(bundle_id)].append(
                {"warehouse_id": int(warehouse_id), "available": int(available)}
            )
    return result


def products_for_display(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """Everything the product representation shows, stock levels included, in a fixed
    number of queries (bundles: ``bundle_availability`` of the page, one more)."""
    return queryset.select_related("product_type").prefetch_related(
        Prefetch(
            "stock_levels",
            queryset=StockLevel.objects.only(
                "id", "product_id", "warehouse_id", "quantity"
            ).order_by("warehouse_id"),
        ),
        Prefetch(
            "components",
            queryset=BundleComponent.objects.select_related("component").order_by("id"),
        ),
    )


def product_has_history(company_id: int, product_id: int) -> bool:
    """Whether stock of the company's product ever moved or it was ever sold."""
    rows = {"company_id": company_id, "product_id": product_id}
    return (
        LedgerEntry.objects.filter(**rows).exists()
        or Sale.objects.filter(**rows).exists()
        or StockMovement.objects.filter(**rows).exists()
    )


def warehouse_has_history(company_id: int, warehouse_id: int) -> bool:
    """Whether stock ever moved in or out of the company's warehouse or a sale was recorded
    there."""
    rows = {"company_id": company_id, "warehouse_id": warehouse_id}
    return (
        LedgerEntry.objects.filter(**rows).exists()
        or Sale.objects.filter(**rows).exists()
        or StockMovement.objects.filter(**rows).exists()
        or StockMovement.objects.filter(
            company_id=company_id, to_warehouse_id=warehouse_id
        ).exists()
    )


# --- invariants ----------------------------------------------------------------------------


@dataclass
class InvariantCheck:
    name: str
    description: str
    violations: int
    samples: list[dict]


def _check(name: str, description: str, sql: str, limit: int) -> InvariantCheck:
    """Run a set-based check: ``sql`` selects the violating rows; count them and keep a few."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) violations")
        count = cursor.fetchone()[0]
        samples: list[dict] = []
        if count:
            cursor.execute(f"{sql} LIMIT %s", [limit])
            columns = [col[0] for col in cursor.description]
            samples = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return InvariantCheck(name, description, count, samples)


def stock_invariant_violations(*, sample_limit: int = 10) -> list[InvariantCheck]:
    """Check every stock invariant over the whole database, one set-based query (plus a
    sample query when it fails) per invariant: they scale to millions of ledger rows."""
    level = StockLevel._meta.db_table
    ledger = LedgerEntry._meta.db_table
    product = Product._meta.db_table
    threshold = effective_threshold_sql("p", "t")
    warehouse = Warehouse._meta.db_table
    checks = [
        (
            "ledger_sum",
            "The ledger changes of every stock level add up to its quantity.",
            f"""
            SELECT s.id AS stock_level_id, s.quantity, COALESCE(l.total, 0) AS ledger_sum
            FROM {level} s
            LEFT JOIN (
                SELECT stock_level_id, SUM(change) AS total FROM {ledger} GROUP BY stock_level_id
            ) l ON l.stock_level_id = s.id
            WHERE s.quantity <> COALESCE(l.total, 0)
            ORDER BY s.id
            """,
        ),
        (
            "ledger_chain",
            "Along each level's ledger (id order), quantity_after = previous quantity_after "
            "+ change (the first entry starts from 0).",
            f"""
            SELECT id AS ledger_entry_id, stock_level_id, change, quantity_after,
                   previous_after
            FROM (
                SELECT id, stock_level_id, change, quantity_after,
                       COALESCE(LAG(quantity_after) OVER (
                           PARTITION BY stock_level_id ORDER BY id
                       ), 0) AS previous_after
                FROM {ledger}
            ) chain
            WHERE quantity_after <> previous_after + change
            ORDER BY id
            """,
        ),
        (
            "non_negative",
            "No stock level and no ledger entry is below zero.",
            f"""
            SELECT 'stock_level' AS row_kind, id, quantity FROM {level} WHERE quantity < 0
            UNION ALL
            SELECT 'ledger_entry', id, quantity_after FROM {ledger} WHERE quantity_after < 0
            """,
        ),
        (
            "level_company",
            "A stock level, its product and its warehouse belong to one company; bundles hold "
            "no stock level.",
            f"""
            SELECT s.id AS stock_level_id, s.company_id, p.company_id AS product_company_id,
                   w.company_id AS warehouse_company_id, p.is_bundle
            FROM {level} s
            JOIN {product} p ON p.id = s.product_id
            JOIN {warehouse} w ON w.id = s.warehouse_id
            WHERE s.company_id <> p.company_id OR s.company_id <> w.company_id OR p.is_bundle
            ORDER BY s.id
            """,
        ),
        (
            "threshold",
            "Every stock level carries its product's effective low-stock threshold (the "
            "product's own, else its type's; none: null).",
            f"""
            SELECT s.id AS stock_level_id, s.product_id, s.low_stock_threshold,
                   {threshold} AS effective_threshold
            FROM {level} s
            JOIN {product} p ON p.id = s.product_id
            {product_type_join_sql("p", "t")}
            WHERE s.low_stock_threshold <> {threshold}
               OR (s.low_stock_threshold IS NULL) <> ({threshold} IS NULL)
            ORDER BY s.id
            """,
        ),
        (
            "ledger_company",
            "A ledger entry has the company, product and warehouse of its stock level.",
            f"""
            SELECT l.id AS ledger_entry_id, l.company_id, s.company_id AS level_company_id,
                   l.product_id, s.product_id AS level_product_id,
                   l.warehouse_id, s.warehouse_id AS level_warehouse_id
            FROM {ledger} l
            JOIN {level} s ON s.id = l.stock_level_id
            WHERE l.company_id <> s.company_id
               OR l.product_id <> s.product_id
               OR l.warehouse_id <> s.warehouse_id
            ORDER BY l.id
            """,
        ),
    ]
    return [_check(name, description, sql, sample_limit) for name, description, sql in checks]
