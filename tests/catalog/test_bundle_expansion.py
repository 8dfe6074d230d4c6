"""Bundle expansion is defined once for SQL (``catalog.bundles.bundle_parts_cte``) and once for
Python (``expand_bundle``): on random bundle graphs, every SQL statement that expands bundles
gives what the Python expansion gives, and the bundle availability is the minimum over the
expanded leaves of floor(stock / units)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockflow.catalog.bundles import (
    BundleGraph,
    bundle_leaves_cte,
    bundle_parts_cte,
    expand_bundle,
)
from stockflow.catalog.models import BundleComponent, Product, Warehouse
from stockflow.catalog.selectors import bundle_leaf_components
from stockflow.inventory.models import StockLevel
from stockflow.inventory.selectors import bundle_availability, product_stock
from stockflow.tenancy.models import Company
from tests.rollback import rolled_back

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WAREHOUSES = 2


@st.composite
def bundle_graphs(draw) -> tuple[int, BundleGraph, set[int]]:
    """(number of products, edges, which products are bundles). Edges go from a lower to a
    higher index, so there is no cycle; a product with components is a bundle, and some
    products without are empty bundles."""
    size = draw(st.integers(min_value=2, max_value=8))
    graph: BundleGraph = {}
    for parent in range(size - 1):
        children = draw(
            st.dictionaries(
                st.integers(min_value=parent + 1, max_value=size - 1),
                st.integers(min_value=1, max_value=5),
                max_size=3,
            )
        )
        if children:
            graph[parent] = children
    empty_bundles = draw(st.sets(st.integers(min_value=0, max_value=size - 1), max_size=2))
    bundles = set(graph) | {node for node in empty_bundles if node not in graph}
    return size, graph, bundles


stock = st.dictionaries(
    st.tuples(st.integers(min_value=0, max_value=7), st.integers(0, WAREHOUSES - 1)),
    st.integers(min_value=0, max_value=60),
    max_size=12,
)


def write_graph(size: int, graph: BundleGraph, bundles: set[int], levels: dict):
    """The graph in the database; returns the product ids (by index) and warehouse ids."""
    company = Company.objects.create(name="Bundles")
    warehouses = [
        Warehouse.objects.create(company=company, name=f"W{i}", code=f"W{i}")
        for i in range(WAREHOUSES)
    ]
    products = [
        Product.objects.create(
            company=company,
            name=f"P{i}",
            sku=f"BX-{i}",
            price=Decimal("1.00"),
            is_bundle=i in bundles,
        )
        for i in range(size)
    ]
    BundleComponent.objects.bulk_create(
        BundleComponent(
            company=company, bundle=products[parent], component=products[child], quantity=qty
        )
        for parent, children in graph.items()
        for child, qty in children.items()
    )
    StockLevel.objects.bulk_create(
        StockLevel(
            company=company,
            product=products[node],
            warehouse=warehouses[w],
            quantity=quantity,
        )
        for (node, w), quantity in levels.items()
        if node < size and node not in bundles
    )
    return company, [p.pk for p in products], [w.pk for w in warehouses]


def python_leaves(graph: BundleGraph, bundles: set[int], root: int) -> dict[int, int]:
    """The leaves that hold stock: ``expand_bundle`` without the empty bundles."""
    return {
        node: units for node, units in expand_bundle(graph, root).items() if node not in bundles
    }


def company_leaves(company_id: int) -> dict[int, dict[int, int]]:
    """The company-wide walk, as the low-stock report runs it, reduced to the leaves."""
    sql = f"""
        WITH RECURSIVE {bundle_parts_cte(company="bc.company_id = %(company_id)s")}, {bundle_leaves_cte()}
        SELECT bundle_id, product_id, units FROM bundle_leaves
    """
    found: dict[int, dict[int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"company_id": company_id})
        for bundle_id, product_id, units in cursor.fetchall():
            found.setdefault(bundle_id, {})[product_id] = int(units)
    return found


@PROPERTY
@given(drawn=bundle_graphs())
def test_sql_and_python_expand_bundles_alike(drawn):
    size, graph, bundles = drawn

    def check() -> None:
        company, ids, _ = write_graph(size, graph, bundles, {})
        by_index = dict(enumerate(ids))
        walked = company_leaves(company.pk)
        for root in sorted(bundles):
            expected = {
                by_index[node]: units for node, units in python_leaves(graph, bundles, root).items()
            }
            assert dict(bundle_leaf_components(company.pk, by_index[root])) == expected
            assert walked.get(by_index[root], {}) == expected

    rolled_back(check)


@PROPERTY
@given(drawn=bundle_graphs(), levels=stock)
def test_bundle_availability_is_the_minimum_over_the_expanded_leaves(drawn, levels):
    size, graph, bundles = drawn

    def check() -> None:
        company, ids, warehouse_ids = write_graph(size, graph, bundles, levels)
        held = {
            (node, w): quantity
            for (node, w), quantity in levels.items()
            if node < size and node not in bundles
        }
        roots = sorted(bundles)
        availability = bundle_availability([ids[root] for root in roots], company_ids=[company.pk])
        for root in roots:
            leaves = python_leaves(graph, bundles, root)
            places = sorted({w for (node, w) in held if node in leaves})
            expected = [
                {
                    "warehouse_id": warehouse_ids[w],
                    "available": min(
                        held.get((node, w), 0) // units for node, units in leaves.items()
                    ),
                }
                for w in places
            ]
            assert availability[ids[root]] == expected
            shown = product_stock(Product.objects.get(pk=ids[root]))
            per_warehouse = {row["warehouse_id"]: row["available"] for row in expected}
            assert [row["quantity"] for row in shown["warehouses"]] == [
                per_warehouse.get(pk, 0) for pk in warehouse_ids
            ]

    rolled_back(check)


def test_an_empty_nested_bundle_counts_toward_the_unit_limit_but_holds_no_stock():
    graph: BundleGraph = {1: {2: 3, 3: 2}, 2: {4: 5}}
    assert expand_bundle(graph, 1) == {4: 15, 3: 2}  # 3 has no components: kept
    assert expand_bundle(graph, 2) == {4: 5}
