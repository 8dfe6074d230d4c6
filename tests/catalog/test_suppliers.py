"""Suppliers and product–supplier links."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockflow.catalog.models import ProductSupplier, Supplier
from stockflow.tenancy.models import Membership, Role
from tests.factories import (
    catalog_state,
    make_product,
    make_supplier,
    post_raw,
    refused,
)

SUPPLIERS = "/api/suppliers"
LINKS = "/api/product-suppliers"


# --- suppliers --------------------------------------------------------------------------------


def test_create_supplier(tenant_a):
    payload = {
        "company_id": tenant_a.company.pk,
        "name": " Supplier Corp ",
        "contact_email": "orders@supplier.com",
        "phone": "+1 (555) 010-0200 ext. 12",
    }
    response = tenant_a.admin.post(SUPPLIERS, payload, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["company_id"] == tenant_a.company.pk
    assert data["name"] == "Supplier Corp"
    assert Supplier.objects.get().contact_email == "orders@supplier.com"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", None),
        ("contact_email", "not-an-email"),
        ("phone", "call me"),
        ("phone", "abc 123"),
        ("phone", "555-0100\nHi"),
        ("phone", "1" * 41),
        ("company_id", "acme"),
    ],
)
def test_invalid_supplier_is_400(tenant_a, field, value):
    payload = {"company_id": tenant_a.company.pk, "name": "Supplier Corp", field: value}
    before = catalog_state()
    error = refused(
        tenant_a.admin.post(SUPPLIERS, payload, format="json"), 400, "validation_error", before
    )
    assert set(error["fields"]) == {field}


def test_supplier_in_another_company_is_404(tenant_a, tenant_b):
    before = catalog_state()
    payload = {"company_id": tenant_b.company.pk, "name": "Supplier Corp"}
    refused(tenant_a.admin.post(SUPPLIERS, payload, format="json"), 404, "not_found", before)


def test_supplier_list_is_scoped_and_filtered(tenant_a, tenant_b):
    acme = make_supplier(tenant_a.company, "Acme Parts", contact_email="a@acme.test")
    make_supplier(tenant_a.company, "Bolt Co")
    make_supplier(tenant_b.company, "Acme Rival")

    response = tenant_a.viewer.get(SUPPLIERS, {"name": "acme"}, max_queries=5)
    assert [s["id"] for s in response.json()["results"]] == [acme.pk]
    by_mail = tenant_a.viewer.get(SUPPLIERS, {"contact_email": "A@ACME.TEST"}).json()
    assert [s["id"] for s in by_mail["results"]] == [acme.pk]


def test_deleting_a_supplier_removes_its_links(tenant_a):
    supplier = make_supplier(tenant_a.company)
    ProductSupplier.objects.create(
        company=tenant_a.company, product=make_product(tenant_a.company), supplier=supplier
    )
    assert tenant_a.admin.delete(f"{SUPPLIERS}/{supplier.pk}").status_code == 204
    assert not ProductSupplier.objects.exists()


# --- links ------------------------------------------------------------------------------------


def link_body(product, supplier, **extra) -> dict:
    return {"product_id": product.pk, "supplier_id": supplier.pk, **extra}


def test_link_supplier(tenant_a):
    product = make_product(tenant_a.company)
    supplier = make_supplier(tenant_a.company)
    payload = link_body(
        product, supplier, supplier_sku="SUP-77", unit_cost="2.4375", lead_time_days=12
    )
    response = tenant_a.admin.post(LINKS, payload, format="json")

    assert response.status_code == 201, response.content
    link = ProductSupplier.objects.get()
    assert response.json() == {
        "id": link.pk,
        "company_id": tenant_a.company.pk,
        "product_id": product.pk,
        "supplier_id": supplier.pk,
        "supplier_sku": "SUP-77",
        "unit_cost": "2.4375",
        "lead_time_days": 12,
        "observed_lead_time_days": None,
        "observed_orders": 0,
        "is_primary": False,
        "created_at": response.json()["created_at"],
    }
    assert link.unit_cost == Decimal("2.4375")


@pytest.mark.parametrize(
    "text",
    ['"abc"', "-1", '"NaN"', "1e400", "0.00001", '"Infinity"', "true", "12345678901.5"],
)
def test_bad_unit_cost_is_400(tenant_a, text):
    product = make_product(tenant_a.company)
    supplier = make_supplier(tenant_a.company)
    raw = f'{{"product_id": {product.pk}, "supplier_id": {supplier.pk}, "unit_cost": {text}}}'
    before = catalog_state()
    error = refused(post_raw(tenant_a.admin, LINKS, raw), 400, "validation_error", before)
    assert set(error["fields"]) == {"unit_cost"}


def test_unit_cost_from_a_json_number_is_exact(tenant_a):
    product = make_product(tenant_a.company)
    supplier = make_supplier(tenant_a.company)
    raw = f'{{"product_id": {product.pk}, "supplier_id": {supplier.pk}, "unit_cost": 0.1}}'
    assert post_raw(tenant_a.admin, LINKS, raw).status_code == 201
    assert ProductSupplier.objects.get().unit_cost == Decimal("0.1000")


@pytest.mark.parametrize(("field", "value"), [("lead_time_days", -1), ("lead_time_days", 4000)])
def test_bad_lead_time_is_400(tenant_a, field, value):
    product = make_product(tenant_a.company)
    supplier = make_supplier(tenant_a.company)
    before = catalog_state()
    response = tenant_a.admin.post(LINKS, link_body(product, supplier, **{field: value}), "json")
    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {field}


def test_supplier_of_another_company_is_400(tenant_a, tenant_b):
    product = make_product(tenant_a.company)
    theirs = make_supplier(tenant_b.company)
    before = catalog_state()
    response = tenant_a.admin.post(LINKS, link_body(product, theirs), format="json")
    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {"supplier_id"}


def test_supplier_of_another_own_company_is_400(tenant_a, tenant_b):
    Membership.objects.create(
        user=tenant_a.users[Role.ADMIN], company=tenant_b.company, role=Role.ADMIN
    )
    product = make_product(tenant_a.company)
    other = make_supplier(tenant_b.company)
    before = catalog_state()
    response = tenant_a.admin.post(LINKS, link_body(product, other), format="json")
    error = refused(response, 400, "validation_error", before)
    assert error["fields"]["supplier_id"] == ["Must belong to the same company as the product."]


def test_product_of_another_company_is_404(tenant_a, tenant_b):
    theirs = make_product(tenant_b.company)
    supplier = make_supplier(tenant_a.company)
    before = catalog_state()
    refused(
        tenant_a.admin.post(LINKS, link_body(theirs, supplier), format="json"),
        404,
        "not_found",
        before,
    )


def test_same_supplier_twice_is_409(tenant_a):
    product = make_product(tenant_a.company)
    supplier = make_supplier(tenant_a.company)
    tenant_a.admin.post(LINKS, link_body(product, supplier), format="json")
    before = catalog_state()
    response = tenant_a.admin.post(LINKS, link_body(product, supplier), format="json")
    refused(response, 409, "conflict", before)


def test_one_primary_supplier_per_product(tenant_a):
    product = make_product(tenant_a.company)
    first, second, third = (make_supplier(tenant_a.company) for _ in range(3))

    a = tenant_a.admin.post(LINKS, link_body(product, first, is_primary=True), "json").json()
    b = tenant_a.admin.post(LINKS, link_body(product, second, is_primary=True), "json").json()
    c = tenant_a.admin.post(LINKS, link_body(product, third), "json").json()

    def primaries():
        return list(
            ProductSupplier.objects.filter(product=product, is_primary=True).values_list(
                "pk", flat=True
            )
        )

    assert primaries() == [b["id"]]
    response = tenant_a.admin.patch(f"{LINKS}/{c['id']}", {"is_primary": True}, format="json")
    assert response.status_code == 200 and response.json()["is_primary"] is True
    assert primaries() == [c["id"]]
    assert ProductSupplier.objects.get(pk=a["id"]).is_primary is False


def test_primary_of_another_product_is_untouched(tenant_a):
    supplier = make_supplier(tenant_a.company)
    one, two = make_product(tenant_a.company), make_product(tenant_a.company)
    tenant_a.admin.post(LINKS, link_body(one, supplier, is_primary=True), "json")
    tenant_a.admin.post(LINKS, link_body(two, supplier, is_primary=True), "json")
    assert ProductSupplier.objects.filter(is_primary=True).count() == 2


def test_patch_link_fields(tenant_a):
    product = make_product(tenant_a.company)
    link = tenant_a.admin.post(
        LINKS, link_body(product, make_supplier(tenant_a.company)), "json"
    ).json()
    response = tenant_a.admin.patch(
        f"{LINKS}/{link['id']}", {"unit_cost": "3.5", "lead_time_days": 2}, format="json"
    )
    assert (response.json()["unit_cost"], response.json()["lead_time_days"]) == ("3.5000", 2)


def test_links_list_and_filters(tenant_a, tenant_b):
    product = make_product(tenant_a.company)
    supplier = make_supplier(tenant_a.company)
    mine = tenant_a.admin.post(LINKS, link_body(product, supplier, is_primary=True), "json")
    tenant_a.admin.post(LINKS, link_body(make_product(tenant_a.company), supplier), "json")
    other = make_product(tenant_b.company)
    ProductSupplier.objects.create(
        company=tenant_b.company, product=other, supplier=make_supplier(tenant_b.company)
    )
    listed = tenant_a.viewer.get(LINKS, {"is_primary": "true"}, max_queries=5).json()
    assert [item["id"] for item in listed["results"]] == [mine.json()["id"]]
    assert tenant_a.viewer.get(LINKS, {"supplier_id": supplier.pk}).json()["count"] == 2
    assert tenant_a.viewer.get(LINKS).json()["count"] == 2


def test_unlink(tenant_a):
    product = make_product(tenant_a.company)
    link = tenant_a.admin.post(
        LINKS, link_body(product, make_supplier(tenant_a.company)), "json"
    ).json()
    assert tenant_a.admin.delete(f"{LINKS}/{link['id']}").status_code == 204
    assert not ProductSupplier.objects.exists()
