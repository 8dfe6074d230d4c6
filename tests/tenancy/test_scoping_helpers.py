"""The helpers of the tenant mechanism for views that are not viewsets (``url_company``,
``get_tenant_object``): another company's object or company is a 404 exactly like a missing
one, a role too low is a 403."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from stockflow.catalog.models import Product
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantAPIView
from tests.factories import assert_error

pytestmark = pytest.mark.django_db


class AdminOnlyProductView(TenantAPIView):
    read_role = Role.ADMIN

    def get(self, request, product_id: int):
        product = self.get_tenant_object(Product.objects.all(), pk=product_id)
        return Response({"id": product.pk})


class AdminOnlyCompanyView(TenantAPIView):
    read_role = Role.ADMIN

    def get(self, request, company_pk: str):
        return Response({"company": self.url_company()})


def call(view, user, **kwargs):
    request = APIRequestFactory().get("/")
    force_authenticate(request, user=user)
    return view.as_view()(request, **kwargs)


@pytest.fixture
def product_a(tenant_a):
    return Product.objects.create(
        company=tenant_a.company, name="Mug", sku="SCOPE-1", price=Decimal("1.00")
    )


def test_get_tenant_object_finds_the_callers_object(tenant_a, product_a):
    response = call(AdminOnlyProductView, tenant_a.users["admin"], product_id=product_a.pk)
    assert response.status_code == 200
    assert response.data == {"id": product_a.pk}


def test_get_tenant_object_answers_another_company_like_a_missing_object(
    tenant_a, tenant_b, product_a
):
    foreign = call(AdminOnlyProductView, tenant_b.users["admin"], product_id=product_a.pk)
    missing = call(AdminOnlyProductView, tenant_b.users["admin"], product_id=product_a.pk + 999)
    assert foreign.status_code == missing.status_code == 404


def test_get_tenant_object_refuses_a_role_too_low(tenant_a, product_a):
    response = call(AdminOnlyProductView, tenant_a.users["viewer"], product_id=product_a.pk)
    assert response.status_code == 403


def test_url_company(tenant_a, tenant_b):
    company = tenant_a.company.pk
    assert call(AdminOnlyCompanyView, tenant_a.users["admin"], company_pk=str(company)).data == {
        "company": company
    }
    assert (
        call(AdminOnlyCompanyView, tenant_a.users["viewer"], company_pk=str(company)).status_code
        == 403
    )
    assert (
        call(AdminOnlyCompanyView, tenant_b.users["admin"], company_pk=str(company)).status_code
        == 404
    )
    huge = str(2**80)  # never reaches the database
    assert call(AdminOnlyCompanyView, tenant_a.users["admin"], company_pk=huge).status_code == 404


def test_product_stock_of_another_company_is_404(tenant_a, tenant_b, product_a):
    url = f"/api/products/{product_a.pk}/stock"
    assert tenant_a.viewer.get(url).status_code == 200
    assert_error(tenant_b.owner.get(url), 404, "not_found")
    assert_error(tenant_b.owner.get(f"/api/products/{product_a.pk + 999}/stock"), 404, "not_found")


def test_members_of_another_company_are_404(tenant_a, tenant_b):
    url = f"/api/companies/{tenant_a.company.pk}/members"
    assert tenant_a.viewer.get(url).status_code == 200
    assert_error(tenant_b.owner.get(url), 404, "not_found")
    body = {"username": tenant_b.users["viewer"].username, "role": "viewer"}
    assert_error(tenant_a.admin.post(url, body, format="json"), 403, "permission_denied")
    assert_error(tenant_b.owner.post(url, body, format="json"), 404, "not_found")
