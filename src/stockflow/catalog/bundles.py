"""The bundle graph: what a bundle is made of, and the rules its edits must keep.

A bundle contains ``quantity`` units of each of its components; a component may itself be a
bundle. Expanding a bundle multiplies the quantities along every path down to the products
that hold stock (its *leaves*). That expansion is defined once for SQL, ``bundle_parts_cte``
(a recursive CTE used by every statement that expands bundles: ``selectors``, the stock
availability of bundles in ``inventory.selectors``, the low-stock report), and once for
Python, ``expand_bundle`` (used to check a graph before it is written). The property tests
of ``tests/catalog/test_bundle_expansion.py`` prove the two equal on random graphs.
"""

from __future__ import annotations

from functools import cache

from rest_framework.exceptions import ValidationError

from stockflow.catalog.models import BundleComponent, Product

# Nesting deeper than this is refused when components are added; the walk stops there too.
MAX_BUNDLE_DEPTH = 16
# Units of one product that one unit of a bundle may consume, nested bundles multiplied
# out. Keeps the bundle arithmetic far from integer overflow in the database.
MAX_BUNDLE_UNITS = 1_000_000_000

# A bundle graph edge: bundle id -> {component id: units of the component per bundle}.
BundleGraph = dict[int, dict[int, int]]


# --- SQL -------------------------------------------------------------------------------------


def bundle_parts_cte(*, company: str, roots: str | None = None, name: str = "bundle_parts") -> str:
    """A ``WITH RECURSIVE`` member ``name(bundle_id, component_id, units, depth,
    company_id)``: for each root bundle, every product it contains at any depth (one row per
    path), with the units one root consumes along that path, and the bundle's company.

    ``company`` is an SQL condition on the company of the component lines ``bc`` that start
    the walk (``bc.company_id = …`` or ``IN (…)``), ``roots`` one more (e.g.
    ``bc.bundle_id IN (…)``); each step reads the lines of the same company."""
    start = " AND ".join(c for c in (company, roots) if c is not None)
    lines = BundleComponent._meta.db_table
    return f"""{name}(bundle_id, component_id, units, depth, company_id) AS (
    SELECT bc.bundle_id, bc.component_id, CAST(bc.quantity AS BIGINT), 1, bc.company_id
    FROM {lines} bc
    WHERE {start}
    UNION ALL
    SELECT walk.bundle_id, bc.component_id, walk.units * bc.quantity, walk.depth + 1,
           walk.company_id
    FROM {name} walk
    JOIN {lines} bc ON bc.bundle_id = walk.component_id AND bc.company_id = walk.company_id
    WHERE walk.depth < {MAX_BUNDLE_DEPTH}
)"""


def bundle_leaves_cte(*, parts: str = "bundle_parts", name: str = "bundle_leaves") -> str:
    """A ``WITH`` member ``name(bundle_id, product_id, units, company_id)`` over
    ``bundle_parts_cte``: the leaves of each root bundle, products that hold stock (not
    bundles), with the units one root consumes of each, all paths added up."""
    return f"""{name}(bundle_id, product_id, units, company_id) AS (
    SELECT walk.bundle_id, walk.component_id, CAST(SUM(walk.units) AS BIGINT), walk.company_id
    FROM {parts} walk
    JOIN {Product._meta.db_table} p ON p.id = walk.component_id AND p.company_id = walk.company_id
    WHERE NOT p.is_bundle
    GROUP BY walk.bundle_id, walk.component_id, walk.company_id
)"""


# --- Python ----------------------------------------------------------------------------------


def expand_bundle(graph: BundleGraph, bundle_id: int) -> dict[int, int]:
    """What one unit of ``bundle_id`` consumes, nested bundles multiplied out: {product id:
    units} over the products of ``graph`` below it that have no components. That is, its
    leaves as ``bundle_leaves_cte`` finds them, plus any bundle without components (which
    the SQL drops, since it is a bundle: it is kept here so that the unit limit covers
    every node the SQL walk reaches). ``graph`` must have no cycle."""
    return _expander(graph)(bundle_id)


def _expander(graph: BundleGraph):
    @cache
    def units(node: int) -> dict[int, int]:
        if not graph.get(node):
            return {node: 1}
        total: dict[int, int] = {}
        for child, quantity in graph[node].items():
            for leaf, count in units(child).items():
                total[leaf] = total.get(leaf, 0) + quantity * count
        return total

    return units


def _find_path(graph: BundleGraph, start: int, goal: int) -> list[int] | None:
    """A path start → … → goal along component edges, or None."""
    parents: dict[int, int | None] = {start: None}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            path = [node]
            while parents[path[-1]] is not None:
                path.append(parents[path[-1]])
            return path[::-1]
        for child in graph.get(node, {}):
            if child not in parents:
                parents[child] = node
                stack.append(child)
    return None


def _ancestors(parents: dict[int, list[int]], node: int) -> set[int]:
    """``node`` and every bundle that contains it, at any depth."""
    found = {node}
    stack = [node]
    while stack:
        for parent in parents.get(stack.pop(), []):
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def check_bundle_graph(
    graph: BundleGraph,
    bundle_id: int,
    component_id: int,
    skus_by_id,
) -> None:
    """Check the company's bundle graph once the edge bundle → component is in it:
    no cycle, nesting within ``MAX_BUNDLE_DEPTH``, at most ``MAX_BUNDLE_UNITS`` units of
    any product per bundle. ``graph`` is the whole graph of the company, read under its
    lock; ``skus_by_id(ids)`` names the products of a cycle. Raises a 400 naming the
    offending field."""
    cycle = _find_path(graph, component_id, bundle_id)
    if cycle is not None:
        skus = skus_by_id([bundle_id, *cycle])
        chain = " → ".join(skus[pk] for pk in [bundle_id, *cycle])
        raise ValidationError({"component_id": [f"This would make a cycle: {chain}."]})

    parents: dict[int, list[int]] = {}
    for parent, children in graph.items():
        for child in children:
            parents.setdefault(child, []).append(parent)

    @cache
    def levels_below(node: int) -> int:
        return max((1 + levels_below(child) for child in graph.get(node, {})), default=0)

    @cache
    def levels_above(node: int) -> int:
        return max((1 + levels_above(parent) for parent in parents.get(node, [])), default=0)

    depth = levels_above(bundle_id) + 1 + levels_below(component_id)
    if depth > MAX_BUNDLE_DEPTH:
        raise ValidationError(
            {
                "component_id": [
                    f"Bundles may nest at most {MAX_BUNDLE_DEPTH} levels deep; "
                    f"this would make {depth}."
                ]
            }
        )

    units = _expander(graph)
    if any(
        max(units(root).values(), default=0) > MAX_BUNDLE_UNITS
        for root in _ancestors(parents, bundle_id)
    ):
        raise ValidationError(
            {
                "quantity": [
                    f"A bundle may consume at most {MAX_BUNDLE_UNITS} units of one product, "
                    "nested bundles multiplied out."
                ]
            }
        )
