"""Who may write the catalog: admins and owners. Viewers and staff read it and get 403 on
every write to objects they can see; non-members get 404."""

from __future__ import annotations

import pytest

from stockflow.catalog.services import link_supplier
from stockflow.tenancy.models import Role
from tests.factories import (
    DEFAULT_QUERY_BUDGET,
    PRODUCT_WRITE_BUDGET,
    add_component,
    assert_error,
    catalog_state,
    make_bundle,
    make_product,
    make_product_type,
    make_supplier,
    make_warehouse,
    query_budget,
)

READERS_WHO_CANNOT_WRITE = [Role.VIEWER, Role.STAFF]
WRITERS = [Role.ADMIN, Role.OWNER]


def catalog_of(tenant) -> dict:
    """One object of each resource, and a valid PATCH and create body for each."""
    company = tenant.company
    warehouse = make_warehouse(company, "MAIN")
    product = make_product(company, f"P-{company.pk}", warehouse=warehouse)
    supplier = make_supplier(company)
    product_type = make_product_type(company)
    bundle = make_bundle(company, f"KIT-{company.pk}")
    line = add_component(bundle, product, 1)
    link = link_supplier(product=product, supplier=supplier)
    spare = make_product(company, f"SPARE-{company.pk}", warehouse=warehouse)
    spare_supplier = make_supplier(company)
    return {
        "warehouses": (
            warehouse,
            {"name": "Renamed"},
            {"company_id": company.pk, "name": "New", "code": "NEW"},
        ),
        "product-types": (
            product_type,
            {"low_stock_threshold": 3},
            {"company_id": company.pk, "name": "New type"},
        ),
        "suppliers": (supplier, {"phone": "555 0100"}, {"company_id": company.pk, "name": "New"}),
        "products": (
            product,
            {"price": "1.00"},
            {
                "name": "New",
                "sku": f"NEW-{company.pk}",
                "price": "1.00",
                "warehouse_id": warehouse.pk,
                "initial_quantity": 0,  # no history yet: the test deletes it again
            },
        ),
        "product-suppliers": (
            link,
            {"lead_time_days": 1},
            {"product_id": spare.pk, "supplier_id": spare_supplier.pk},
        ),
        "bundle-components": (
            line,
            {"quantity": 5},
            {"bundle_id": bundle.pk, "component_id": spare.pk, "quantity": 1},
        ),
    }


RESOURCES = [
    "warehouses",
    "product-types",
    "suppliers",
    "products",
    "product-suppliers",
    "bundle-components",
]


@pytest.mark.parametrize("role", READERS_WHO_CANNOT_WRITE)
@pytest.mark.parametrize("resource", RESOURCES)
def test_viewer_and_staff_read_but_cannot_write(tenant_a, role, resource):
    obj, patch, create = catalog_of(tenant_a)[resource]
    client = tenant_a.clients[role]
    url = f"/api/{resource}/{obj.pk}"

    assert client.get(url).status_code == 200
    assert client.get(f"/api/{resource}").json()["count"] >= 1
    before = catalog_state()
    assert_error(client.patch(url, patch, format="json"), 403, "permission_denied")
    assert_error(client.put(url, patch, format="json"), 403, "permission_denied")
    assert_error(client.delete(url), 403, "permission_denied")
    created = client.post(f"/api/{resource}", create, format="json")
    if resource == "products":
        # The warehouse decides the company of a new product: one where the caller may not
        # write is answered like any warehouse they cannot use (SPEC §3.1).
        assert_error(created, 404, "not_found")
    else:
        assert_error(created, 403, "permission_denied")
    assert catalog_state() == before


@pytest.mark.parametrize("role", WRITERS)
@pytest.mark.parametrize("resource", RESOURCES)
def test_admin_and_owner_write(tenant_a, role, resource):
    obj, patch, create = catalog_of(tenant_a)[resource]
    client = tenant_a.clients[role]
    url = f"/api/{resource}/{obj.pk}"
    budget = PRODUCT_WRITE_BUDGET if resource == "products" else DEFAULT_QUERY_BUDGET

    with query_budget(budget):
        updated = client.patch(url, patch, format="json")
        assert updated.status_code == 200, updated.content
        for field, value in patch.items():
            assert updated.json()[field] == value
        created = client.post(f"/api/{resource}", create, format="json")
        assert created.status_code == 201, created.content
        deleted = client.delete(f"/api/{resource}/{created.json()['id']}")
        assert deleted.status_code == 204, deleted.content


@pytest.mark.parametrize("resource", RESOURCES)
def test_non_members_get_404_for_everything(tenant_a, tenant_b, resource):
    obj, patch, create = catalog_of(tenant_b)[resource]
    client = tenant_a.owner
    url = f"/api/{resource}/{obj.pk}"
    before = catalog_state()

    assert_error(client.get(url), 404, "not_found")
    assert_error(client.patch(url, patch, format="json"), 404, "not_found")
    assert_error(client.delete(url), 404, "not_found")
    assert_error(client.post(f"/api/{resource}", create, format="json"), 404, "not_found")
    assert client.get(f"/api/{resource}").json()["count"] == 0
    assert catalog_state() == before


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_is_401(anon, tenant_a, resource):
    obj, patch, _ = catalog_of(tenant_a)[resource]
    before = catalog_state()
    assert_error(anon.get(f"/api/{resource}"), 401, "not_authenticated")
    assert_error(anon.patch(f"/api/{resource}/{obj.pk}", patch, "json"), 401, "not_authenticated")
    assert catalog_state() == before
