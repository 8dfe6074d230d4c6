"""Read queries of the catalog."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db import connection

from stockflow.catalog.bundles import BundleGraph, bundle_leaves_cte, bundle_parts_cte
from stockflow.catalog.models import BundleComponent, Product


def bundle_leaf_components(company_id: int, bundle_id: int) -> list[tuple[int, int]]:
    """What one unit of a company's bundle consumes: (component product id, units), nested
    bundles multiplied out down to products that hold stock, ordered by product id. One
    query."""
    sql = f"""
        WITH RECURSIVE
        {bundle_parts_cte(company="bc.company_id = %(company_id)s", roots="bc.bundle_id = %(bundle_id)s")},
        {bundle_leaves_cte()}
        SELECT product_id, units FROM bundle_leaves ORDER BY product_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"company_id": company_id, "bundle_id": bundle_id})
        return [(int(pid), int(qty)) for pid, qty in cursor.fetchall()]


def company_bundle_graph(company_id: int) -> BundleGraph:
    """Every bundle → component edge of a company, with its quantity. One query."""
    graph: BundleGraph = defaultdict(dict)
    rows = BundleComponent.objects.filter(company_id=company_id).values_list(
        "bundle_id", "component_id", "quantity"
    )
    for bundle_id, component_id, quantity in rows:
        graph[bundle_id][component_id] = quantity
    return graph


def skus_by_id(company_id: int, product_ids: Sequence[int]) -> dict[int, str]:
    return dict(
        Product.objects.filter(company_id=company_id, pk__in=list(product_ids)).values_list(
            "pk", "sku"
        )
    )


def bundles_using(company_id: int, product_id: int) -> list[str]:
    """SKUs of the company's bundles that have the product as a direct component."""
    return list(
        Product.objects.filter(company_id=company_id, components__component_id=product_id)
        .order_by("sku")
        .values_list("sku", flat=True)
    )
