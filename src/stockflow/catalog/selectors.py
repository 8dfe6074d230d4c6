"""Read queries of the catalog."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db import connection
from django.db.models import Prefetch, QuerySet

from stockflow.catalog.models import BundleComponent, Product
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel, StockMovement

# Nesting deeper than this is refused when components are added; the walk stops there too.
MAX_BUNDLE_DEPTH = 16

# A bundle graph edge: bundle id -> {component id: units of the component per bundle}.
BundleGraph = dict[int, dict[int, int]]


def bundle_leaf_components(bundle_id: int) -> list[tuple[int, int]]:
    """What one unit of a bundle consumes: (component product id, units), nested bundles
    multiplied out down to products that hold stock, ordered by product id. One query."""
    components = BundleComponent._meta.db_table
    products = Product._meta.db_table
    sql = f"""
        WITH RECURSIVE walk(component_id, quantity, depth) AS (
            SELECT component_id, CAST(quantity AS BIGINT), 1 FROM {components}
            WHERE bundle_id = %s
            UNION ALL
            SELECT bc.component_id, walk.quantity * bc.quantity, walk.depth + 1
            FROM {components} bc JOIN walk ON bc.bundle_id = walk.component_id
            WHERE walk.depth < %s
        )
        SELECT walk.component_id, SUM(walk.quantity)
        FROM walk JOIN {products} p ON p.id = walk.component_id
        WHERE NOT p.is_bundle
        GROUP BY walk.component_id
        ORDER BY walk.component_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [bundle_id, MAX_BUNDLE_DEPTH])
        return [(int(pid), int(qty)) for pid, qty in cursor.fetchall()]


def bundle_availability(bundle_ids: Sequence[int]) -> dict[int, list[dict[str, int]]]:
    """Units of each bundle that can be assembled, per warehouse, for many bundles at once:
    the minimum over its leaf components of floor(component stock / units per bundle).

    Warehouses are those where at least one leaf component has a stock level; a leaf with
    no stock level there counts as 0. Ordered by warehouse id. One query for the whole list.
    """
    bundle_ids = sorted({int(pk) for pk in bundle_ids})
    result: dict[int, list[dict[str, int]]] = {pk: [] for pk in bundle_ids}
    if not bundle_ids:
        return result
    components = BundleComponent._meta.db_table
    products = Product._meta.db_table
    levels = StockLevel._meta.db_table
    placeholders = ", ".join(["%s"] * len(bundle_ids))
    sql = f"""
        WITH RECURSIVE walk(root_id, component_id, quantity, depth) AS (
            SELECT bundle_id, component_id, CAST(quantity AS BIGINT), 1 FROM {components}
            WHERE bundle_id IN ({placeholders})
            UNION ALL
            SELECT walk.root_id, bc.component_id, walk.quantity * bc.quantity, walk.depth + 1
            FROM {components} bc JOIN walk ON bc.bundle_id = walk.component_id
            WHERE walk.depth < %s
        ),
        leaves(root_id, product_id, units) AS (
            SELECT walk.root_id, walk.component_id, CAST(SUM(walk.quantity) AS BIGINT)
            FROM walk JOIN {products} p ON p.id = walk.component_id
            WHERE NOT p.is_bundle
            GROUP BY walk.root_id, walk.component_id
        ),
        places(root_id, warehouse_id) AS (
            SELECT DISTINCT leaves.root_id, sl.warehouse_id
            FROM leaves JOIN {levels} sl ON sl.product_id = leaves.product_id
        )
        SELECT places.root_id, places.warehouse_id,
               MIN(COALESCE(sl.quantity, 0) / leaves.units)
        FROM places
        JOIN leaves ON leaves.root_id = places.root_id
        LEFT JOIN {levels} sl
            ON sl.product_id = leaves.product_id AND sl.warehouse_id = places.warehouse_id
        GROUP BY places.root_id, places.warehouse_id
        ORDER BY places.root_id, places.warehouse_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*bundle_ids, MAX_BUNDLE_DEPTH])
        for root_id, warehouse_id, available in cursor.fetchall():
            result[int(root_id)].append(
                {"warehouse_id": int(warehouse_id), "available": int(available)}
            )
    return result


def products_for_display(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """Everything the product representation shows, in a fixed number of queries."""
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


def company_bundle_graph(company_id: int) -> BundleGraph:
    """Every bundle → component edge of a company, with its quantity. One query."""
    graph: BundleGraph = defaultdict(dict)
    rows = BundleComponent.objects.filter(company_id=company_id).values_list(
        "bundle_id", "component_id", "quantity"
    )
    for bundle_id, component_id, quantity in rows:
        graph[bundle_id][component_id] = quantity
    return graph


def skus_by_id(product_ids: Sequence[int]) -> dict[int, str]:
    return dict(Product.objects.filter(pk__in=list(product_ids)).values_list("pk", "sku"))


def product_has_history(product_id: int) -> bool:
    """Whether stock of the product ever moved or it was ever sold."""
    return (
        LedgerEntry.objects.filter(product_id=product_id).exists()
        or Sale.objects.filter(product_id=product_id).exists()
        or StockMovement.objects.filter(product_id=product_id).exists()
    )


def warehouse_has_history(warehouse_id: int) -> bool:
    """Whether stock ever moved in or out of the warehouse or a sale was recorded there."""
    return (
        LedgerEntry.objects.filter(warehouse_id=warehouse_id).exists()
        or Sale.objects.filter(warehouse_id=warehouse_id).exists()
        or StockMovement.objects.filter(warehouse_id=warehouse_id).exists()
        or StockMovement.objects.filter(to_warehouse_id=warehouse_id).exists()
    )
