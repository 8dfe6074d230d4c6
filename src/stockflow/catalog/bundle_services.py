"""Edits of the bundle graph (component lines), each under the company's bundle-graph lock
(``stockflow.locking``) and checked against the whole graph before it is written
(``catalog.bundles.check_bundle_graph``)."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from rest_framework.exceptions import NotFound, ValidationError

from stockflow import locking
from stockflow.api.errors import Conflict
from stockflow.catalog import selectors
from stockflow.catalog.bundles import check_bundle_graph
from stockflow.catalog.models import BundleComponent, Product
from stockflow.catalog.services import conflict_on_integrity_error


def _duplicate_line() -> Conflict:
    return Conflict(
        "This product is already a component of the bundle; change its quantity instead.",
        field="component_id",
    )


def _bundle_line_conflict(company_id: int, bundle_id: int, component_id: int) -> Conflict | None:
    if BundleComponent.objects.filter(
        company_id=company_id, bundle_id=bundle_id, component_id=component_id
    ).exists():
        return _duplicate_line()
    return None


@transaction.atomic
def add_bundle_component(*, bundle: Product, component: Product, quantity: int) -> BundleComponent:
    """Add ``quantity`` units of ``component`` to ``bundle``, under the company's bundle-graph
    lock: same company, ``bundle`` is a bundle, no self-reference, no cycle at any depth."""
    locking.lock_bundle_graph(bundle.company_id)
    # the component's company too: one of another company is refused by name below
    fresh = Product.objects.filter(
        company_id__in={bundle.company_id, component.company_id}
    ).in_bulk([bundle.pk, component.pk])
    if bundle.pk not in fresh:
        raise NotFound(f"bundle_id {bundle.pk} not found.")
    if component.pk not in fresh:
        raise ValidationError({"component_id": [f"Not found: {component.pk}."]})
    bundle, component = fresh[bundle.pk], fresh[component.pk]

    if not bundle.is_bundle:
        raise ValidationError(
            {"bundle_id": ["Components can only be added to a product with is_bundle=true."]}
        )
    if component.company_id != bundle.company_id:
        raise ValidationError({"component_id": ["Must belong to the same company as the bundle."]})
    if component.pk == bundle.pk:
        raise ValidationError({"component_id": ["A bundle cannot contain itself."]})
    if not component.is_active:
        raise ValidationError({"component_id": ["This product is inactive."]})

    graph = selectors.company_bundle_graph(bundle.company_id)
    if component.pk in graph[bundle.pk]:
        raise _duplicate_line()
    graph[bundle.pk][component.pk] = quantity
    skus_by_id = partial(selectors.skus_by_id, bundle.company_id)
    check_bundle_graph(graph, bundle.pk, component.pk, skus_by_id)

    line = BundleComponent(
        company_id=bundle.company_id, bundle=bundle, component=component, quantity=quantity
    )
    with conflict_on_integrity_error(
        lambda: _bundle_line_conflict(bundle.company_id, bundle.pk, component.pk)
    ):
        line.save(force_insert=True)
    return line


@transaction.atomic
def update_bundle_component(line: BundleComponent, *, quantity: int) -> BundleComponent:
    locking.lock_bundle_graph(line.company_id)
    graph = selectors.company_bundle_graph(line.company_id)
    if line.component_id not in graph.get(line.bundle_id, {}):
        raise NotFound()
    graph[line.bundle_id][line.component_id] = quantity
    skus_by_id = partial(selectors.skus_by_id, line.company_id)
    check_bundle_graph(graph, line.bundle_id, line.component_id, skus_by_id)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    return line


@transaction.atomic
def remove_bundle_component(line: BundleComponent) -> None:
    locking.lock_bundle_graph(line.company_id)
    BundleComponent.objects.filter(company_id=line.company_id, pk=line.pk).delete()
