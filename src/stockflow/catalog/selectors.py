"""Read queries of the catalog."""

from __future__ import annotations

from django.db import connection

from stockflow.catalog.models import BundleComponent, Product

# Nesting deeper than this is refused when components are added; the walk stops there too.
MAX_BUNDLE_DEPTH = 16


def bundle_leaf_components(bundle_id: int) -> list[tuple[int, int]]:
    """What one unit of a bundle consumes: (component product id, units), nested bundles
    multiplied out down to products that hold stock, ordered by product id. One query."""
    components = BundleComponent._meta.db_table
    products = Product._meta.db_table
    sql = f"""
        WITH RECURSIVE walk(component_id, quantity, depth) AS (
            SELECT component_id, quantity, 1 FROM {components} WHERE bundle_id = %s
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
