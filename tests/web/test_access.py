"""Tenant isolation and roles on the web pages: another company is a 404 app page, a role too
low is a 403 app page (also for a forged POST), and pages hide what a role cannot do."""

from __future__ import annotations

import pytest
from django.test import Client

from stockflow.catalog.models import Product, Warehouse
from stockflow.inventory.models import LedgerEntry, Sale
from stockflow.tenancy.models import Role
from tests.factories import assert_error

pytestmark = pytest.mark.django_db


def assert_app_error(response, status: int) -> str:
    assert response.status_code == status, response.status_code
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<main" in html and "Traceback" not in html
    return html


def test_anonymous_is_sent_to_the_login_page(shop):
    response = Client().get(f"/c/{shop.company.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_login_with_the_form_then_the_home_page_opens_the_first_company(tenant_a, shop):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    user = tenant_a.users[Role.VIEWER]
    response = client.post(
        "/login/",
        {"username": user.username, "password": "wrong", "csrfmiddlewaretoken": token},
    )
    assert (
        response.status_code == 200
        and "Please enter a correct username" in response.content.decode()
    )
    from tests.factories import PASSWORD

    response = client.post(
        "/login/",
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert client.get("/")["Location"] == f"/c/{tenant_a.company.pk}/"


def test_a_form_without_csrf_token_is_refused(tenant_a, shop):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_a.users[Role.OWNER])
    response = client.post(
        f"/c/{shop.company.pk}/warehouses/new/", {"code": "X1", "name": "Forged"}
    )
    assert_app_error(response, 403)
    assert not Warehouse.objects.filter(code="X1").exists()


def test_another_companys_pages_and_objects_are_404(shop, other_shop, pages):
    client = pages[Role.OWNER]
    foreign = other_shop.company.pk
    for url in [
        f"/c/{foreign}/",
        f"/c/{foreign}/products/",
        f"/c/{foreign}/products/{other_shop.mug.pk}/",
        f"/c/{shop.company.pk}/products/{other_shop.mug.pk}/",
        f"/c/{shop.company.pk}/products/{other_shop.mug.pk}/edit/",
        f"/c/{shop.company.pk}/warehouses/{other_shop.main.pk}/edit/",
        f"/c/{shop.company.pk}/stock/receive/?product={other_shop.mug.pk}",
        "/c/999999/",
        "/no-such-page/",
    ]:
        assert_app_error(client.get(url), 404)
    # A write aimed at the other company changes nothing.
    response = client.post(
        f"/c/{shop.company.pk}/warehouses/{other_shop.main.pk}/edit/",
        {"code": "HACK", "name": "Hacked"},
    )
    assert_app_error(response, 404)
    assert Warehouse.objects.get(pk=other_shop.main.pk).code == "MAIN"


def test_switching_to_a_company_of_someone_else_is_404(shop, other_shop, pages):
    response = pages[Role.OWNER].post("/switch/", {"company_id": other_shop.company.pk})
    assert_app_error(response, 404)


def test_api_keeps_its_json_errors(pages):
    assert_error(pages[Role.OWNER].get("/api/no-such-endpoint"), 404, "not_found")


def write_posts(shop) -> list[tuple[str, dict]]:
    c, p = shop.company.pk, shop.mug
    return [
        (
            f"/c/{c}/products/new/",
            {
                "name": "X",
                "sku": "FORGED-1",
                "price": "1",
                "warehouse_id": shop.main.pk,
                "initial_quantity": "1",
            },
        ),
        (f"/c/{c}/products/{p.pk}/edit/", {"name": "Forged"}),
        (f"/c/{c}/warehouses/new/", {"code": "FORGED", "name": "Forged"}),
        (f"/c/{c}/suppliers/{shop.supplier.pk}/edit/", {"name": "Forged"}),
        (f"/c/{c}/product-types/new/", {"name": "Forged"}),
        (
            f"/c/{c}/stock/sell/",
            {"product_sku": p.sku, "warehouse_id": shop.main.pk, "quantity": "1"},
        ),
        (
            f"/c/{c}/stock/receive/",
            {"product_sku": p.sku, "warehouse_id": shop.main.pk, "quantity": "1"},
        ),
        (f"/c/{c}/settings/members/", {"action": "add", "username": "x", "role": "owner"}),
    ]


def counts() -> tuple:
    return (
        Product.objects.count(),
        Warehouse.objects.count(),
        Sale.objects.count(),
        LedgerEntry.objects.count(),
    )


def test_a_viewer_posting_any_form_gets_403_and_nothing_changes(shop, pages):
    before = counts()
    for url, data in write_posts(shop):
        assert_app_error(pages[Role.VIEWER].post(url, data), 403)
    assert counts() == before
    assert Product.objects.get(pk=shop.mug.pk).name == "Harbor Mug"


def test_staff_moves_stock_but_cannot_edit_the_catalog(shop, pages):
    staff = pages[Role.STAFF]
    c = shop.company.pk
    assert staff.get(f"/c/{c}/stock/sell/").status_code == 200
    assert_app_error(staff.get(f"/c/{c}/products/new/"), 403)
    assert_app_error(staff.post(f"/c/{c}/warehouses/new/", {"code": "S1", "name": "S"}), 403)
    assert_app_error(staff.post(f"/c/{c}/settings/members/", {"action": "add"}), 403)


def test_a_viewer_sees_no_write_buttons(shop, pages):
    c = shop.company.pk
    viewer = pages[Role.VIEWER]
    product_page = viewer.get(f"/c/{c}/products/{shop.mug.pk}/").content.decode()
    listing = viewer.get(f"/c/{c}/products/").content.decode()
    warehouses = viewer.get(f"/c/{c}/warehouses/").content.decode()
    members = viewer.get(f"/c/{c}/settings/members/").content.decode()
    for html in (product_page, listing, warehouses):
        assert "/stock/" not in html
        assert "/new/" not in html
        assert "/edit/" not in html
    assert 'name="action" value="role"' not in members
    assert 'value="add"' not in members
    owner_page = pages[Role.OWNER].get(f"/c/{c}/products/{shop.mug.pk}/").content.decode()
    assert "/stock/sell/" in owner_page and "/edit/" in owner_page
