"""Bundle components: same company, whole positive quantities, no self-reference, no cycle."""

from __future__ import annotations

from itertools import pairwise

import pytest

from stockflow.catalog import bundle_services
from stockflow.catalog.bundles import MAX_BUNDLE_DEPTH
from stockflow.catalog.models import BundleComponent
from stockflow.catalog.selectors import bundle_leaf_components
from tests.factories import (
    add_component,
    catalog_state,
    make_bundle,
    make_product,
    refused,
)

URL = "/api/bundle-components"


def line(bundle, component, quantity=1) -> dict:
    return {"bundle_id": bundle.pk, "component_id": component.pk, "quantity": quantity}


def test_add_component(tenant_a):
    kit = make_bundle(tenant_a.company, "KIT")
    mug = make_product(tenant_a.company, "MUG")

    response = tenant_a.admin.post(URL, line(kit, mug, 2), format="json")

    assert response.status_code == 201, response.content
    created = BundleComponent.objects.get()
    assert response.json() == {
        "id": created.pk,
        "company_id": tenant_a.company.pk,
        "bundle_id": kit.pk,
        "component_id": mug.pk,
        "component_sku": "MUG",
        "quantity": 2,
    }
    assert bundle_leaf_components(kit.company_id, kit.pk) == [(mug.pk, 2)]


def test_only_a_bundle_takes_components(tenant_a):
    plain = make_product(tenant_a.company, "PLAIN")
    mug = make_product(tenant_a.company, "MUG")
    before = catalog_state()
    error = refused(
        tenant_a.admin.post(URL, line(plain, mug), format="json"), 400, "validation_error", before
    )
    assert set(error["fields"]) == {"bundle_id"}


def test_self_reference_is_400(tenant_a):
    kit = make_bundle(tenant_a.company, "KIT")
    before = catalog_state()
    error = refused(
        tenant_a.admin.post(URL, line(kit, kit), format="json"), 400, "validation_error", before
    )
    assert set(error["fields"]) == {"component_id"}


def test_cycle_of_two_is_400_and_named(tenant_a):
    a = make_bundle(tenant_a.company, "A-1")
    b = make_bundle(tenant_a.company, "B-2")
    add_component(a, b)
    before = catalog_state()

    response = tenant_a.admin.post(URL, line(b, a), format="json")

    error = refused(response, 400, "validation_error", before)
    assert error["fields"]["component_id"] == ["This would make a cycle: B-2 → A-1 → B-2."]


def test_cycle_of_three_is_400_and_named(tenant_a):
    a = make_bundle(tenant_a.company, "A-1")
    b = make_bundle(tenant_a.company, "B-2")
    c = make_bundle(tenant_a.company, "C-3")
    add_component(a, b)
    add_component(b, c)
    before = catalog_state()

    response = tenant_a.admin.post(URL, line(c, a), format="json")

    error = refused(response, 400, "validation_error", before)
    assert error["fields"]["component_id"] == ["This would make a cycle: C-3 → A-1 → B-2 → C-3."]


def test_diamond_is_not_a_cycle(tenant_a):
    top = make_bundle(tenant_a.company, "TOP")
    left = make_bundle(tenant_a.company, "LEFT")
    right = make_bundle(tenant_a.company, "RIGHT")
    screw = make_product(tenant_a.company, "SCREW")
    add_component(top, left, 1)
    add_component(top, right, 1)
    add_component(left, screw, 2)
    response = tenant_a.admin.post(URL, line(right, screw, 3), format="json")
    assert response.status_code == 201, response.content
    assert bundle_leaf_components(top.company_id, top.pk) == [(screw.pk, 5)]


def test_component_of_another_company_is_400(tenant_a, tenant_b):
    kit = make_bundle(tenant_a.company)
    theirs = make_product(tenant_b.company)
    before = catalog_state()
    error = refused(
        tenant_a.admin.post(URL, line(kit, theirs), format="json"), 400, "validation_error", before
    )
    assert set(error["fields"]) == {"component_id"}


def test_bundle_of_another_company_is_404(tenant_a, tenant_b):
    theirs = make_bundle(tenant_b.company)
    mine = make_product(tenant_a.company)
    before = catalog_state()
    refused(tenant_a.admin.post(URL, line(theirs, mine), format="json"), 404, "not_found", before)


def test_inactive_component_is_400(tenant_a):
    kit = make_bundle(tenant_a.company)
    old = make_product(tenant_a.company)
    old.is_active = False
    old.save()
    before = catalog_state()
    error = refused(
        tenant_a.admin.post(URL, line(kit, old), format="json"), 400, "validation_error", before
    )
    assert set(error["fields"]) == {"component_id"}


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2.5", "two", None, True, 10**6])
def test_quantity_must_be_a_positive_whole_number(tenant_a, quantity):
    kit = make_bundle(tenant_a.company)
    mug = make_product(tenant_a.company)
    before = catalog_state()
    error = refused(
        tenant_a.admin.post(URL, line(kit, mug, quantity), format="json"),
        400,
        "validation_error",
        before,
    )
    assert set(error["fields"]) == {"quantity"}


def test_same_component_twice_is_409(tenant_a):
    kit = make_bundle(tenant_a.company)
    mug = make_product(tenant_a.company)
    add_component(kit, mug)
    before = catalog_state()
    refused(tenant_a.admin.post(URL, line(kit, mug, 3), format="json"), 409, "conflict", before)


def test_nesting_deeper_than_the_limit_is_400(tenant_a):
    chain = [make_bundle(tenant_a.company, f"LVL-{n}") for n in range(MAX_BUNDLE_DEPTH + 1)]
    for outer, inner in pairwise(chain[:-1]):
        add_component(outer, inner)  # MAX_BUNDLE_DEPTH - 1 levels, the last bundle left out
    leaf = make_product(tenant_a.company, "LEAF")
    add_component(chain[MAX_BUNDLE_DEPTH - 1], leaf)  # MAX_BUNDLE_DEPTH levels: allowed
    assert bundle_leaf_components(chain[0].company_id, chain[0].pk) == [(leaf.pk, 1)]
    before = catalog_state()

    response = tenant_a.admin.post(URL, line(chain[-1], chain[0]), format="json")  # one more

    error = refused(response, 400, "validation_error", before)
    assert "at most 16 levels" in error["fields"]["component_id"][0]


def test_runaway_unit_count_is_400(tenant_a):
    screw = make_product(tenant_a.company)
    levels = [make_bundle(tenant_a.company) for _ in range(3)]
    add_component(levels[2], screw, 100_000)
    add_component(levels[1], levels[2], 10_000)  # 10^9 screws per unit: the limit
    before = catalog_state()
    response = tenant_a.admin.post(URL, line(levels[0], levels[1], 2), format="json")
    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {"quantity"}


def test_change_quantity(tenant_a):
    kit = make_bundle(tenant_a.company)
    mug = make_product(tenant_a.company)
    created = add_component(kit, mug, 1)
    response = tenant_a.admin.patch(f"{URL}/{created.pk}", {"quantity": 4}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["quantity"] == 4
    assert bundle_leaf_components(kit.company_id, kit.pk) == [(mug.pk, 4)]


def test_ends_of_a_line_cannot_be_changed(tenant_a):
    kit = make_bundle(tenant_a.company)
    created = add_component(kit, make_product(tenant_a.company))
    other = make_product(tenant_a.company)
    before = catalog_state()
    response = tenant_a.admin.patch(
        f"{URL}/{created.pk}", {"component_id": other.pk}, format="json"
    )
    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {"component_id"}


def test_remove_component(tenant_a):
    kit = make_bundle(tenant_a.company)
    created = add_component(kit, make_product(tenant_a.company))
    assert tenant_a.admin.delete(f"{URL}/{created.pk}").status_code == 204
    assert not BundleComponent.objects.exists()


def test_list_and_filter(tenant_a, tenant_b):
    kit = make_bundle(tenant_a.company)
    other = make_bundle(tenant_a.company)
    first = add_component(kit, make_product(tenant_a.company))
    add_component(other, make_product(tenant_a.company))
    add_component(make_bundle(tenant_b.company), make_product(tenant_b.company))
    for _ in range(5):
        add_component(kit, make_product(tenant_a.company))

    listed = tenant_a.viewer.get(URL, {"bundle_id": kit.pk}, max_queries=5).json()
    assert listed["count"] == 6
    assert listed["results"][0]["id"] == first.pk
    assert tenant_a.viewer.get(URL).json()["count"] == 7


def test_service_refuses_a_cycle_too(tenant_a):
    a = make_bundle(tenant_a.company, "A-1")
    b = make_bundle(tenant_a.company, "B-2")
    add_component(a, b)
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError):
        bundle_services.add_bundle_component(bundle=b, component=a, quantity=1)
    assert BundleComponent.objects.count() == 1
