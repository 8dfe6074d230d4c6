"""Forms validate with the API's serializers (the same messages, shown beside the input),
write through the services, and record a stock form once however often it is sent."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest

from stockflow.catalog.models import Product, ProductType, Warehouse
from stockflow.inventory.models import LedgerEntry, LedgerReason, Sale, StockLevel
from stockflow.tenancy.models import ApiToken, Membership, Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def field_errors(html: str, field: str) -> list[str]:
    return [
        unescape(message)
        for message in re.findall(
            rf'<small class="field-error" id="id_{field}-error">([^<]*)</small>', html
        )
    ]


def form_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)


def new_product_body(shop, **changes) -> dict:
    body = {
        "name": "Travel Mug",
        "sku": "TRAVEL-1",
        "price": "19.99",
        "product_type_id": str(shop.mugs.pk),
        "low_stock_threshold": "",
        "description": "",
        "warehouse_id": str(shop.main.pk),
        "initial_quantity": "25",
    }
    return {**body, **changes}


def test_create_product_with_opening_stock(tenant_a, shop, pages):
    client = pages[Role.ADMIN]
    url = f"/c/{shop.company.pk}/products/new/"
    body = new_product_body(shop, idempotency_key=form_key(client.get(url).content.decode()))
    response = client.post(url, body)
    product = Product.objects.get(sku="TRAVEL-1")
    assert response.status_code == 302
    assert response["Location"] == f"/c/{shop.company.pk}/products/{product.pk}/"
    assert product.price == Decimal("19.99") and product.product_type_id == shop.mugs.pk
    entry = LedgerEntry.objects.get(product=product)
    assert (entry.reason, entry.change, entry.warehouse_id) == (
        LedgerReason.INITIAL,
        25,
        shop.main.pk,
    )
    assert entry.actor_id == tenant_a.users[Role.ADMIN].pk
    # The same form sent again (a double click) creates nothing more.
    again = client.post(url, body)
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert Product.objects.filter(sku="TRAVEL-1").count() == 1


def test_create_product_shows_the_api_messages_inline_and_writes_nothing(shop, pages):
    client = pages[Role.ADMIN]
    url = f"/c/{shop.company.pk}/products/new/"
    before = (Product.objects.count(), LedgerEntry.objects.count())
    body = new_product_body(shop, price="12.345", sku=shop.mug.sku, initial_quantity="-1")
    html = client.post(url, {**body, "idempotency_key": "k1"}).content.decode()
    assert field_errors(html, "price") == ["Ensure that there are no more than 2 decimal places."]
    assert field_errors(html, "initial_quantity") == [
        "Ensure this value is greater than or equal to 0."
    ]
    # The SKU conflict is the service's 409, shown on the SKU input.
    response = client.post(
        url, {**new_product_body(shop, sku=shop.mug.sku), "idempotency_key": "k2"}
    )
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "sku") == [
        f"A product with SKU {shop.mug.sku!r} already exists."
    ]
    assert (Product.objects.count(), LedgerEntry.objects.count()) == before
    # The form keeps what was typed and its key (the retry is the same attempt).
    assert 'value="Travel Mug"' in html and 'value="k1"' in html


def test_edit_product_and_deactivate_it(shop, pages):
    url = f"/c/{shop.company.pk}/products/{shop.mug.pk}/edit/"
    response = pages[Role.ADMIN].post(
        url,
        {
            "name": "Harbor Mug XL",
            "sku": shop.mug.sku,
            "price": "14.00",
            "product_type_id": "",
            "low_stock_threshold": "3",
            "description": "",
            "is_active": "false",
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(pk=shop.mug.pk)
    assert (product.name, product.price, product.is_active, product.product_type_id) == (
        "Harbor Mug XL",
        Decimal("14.00"),
        False,
        None,
    )
    # The new threshold reaches the stock levels, as the service keeps it.
    assert set(
        StockLevel.objects.filter(product=product).values_list("low_stock_threshold", flat=True)
    ) == {3}


def test_sale_form_records_once_per_form(shop, pages):
    client = pages[Role.STAFF]
    url = f"/c/{shop.company.pk}/stock/sell/"
    key = form_key(client.get(url).content.decode())
    body = {
        "product_sku": shop.mug.sku,
        "warehouse_id": shop.main.pk,
        "quantity": "2",
        "unit_price": "",
        "idempotency_key": key,
    }
    before = StockLevel.objects.get(product=shop.mug, warehouse=shop.main).quantity
    first = client.post(url, body)
    second = client.post(url, body, follow=True)
    assert first.status_code == 302
    assert "already submitted" in second.content.decode()
    assert Sale.objects.filter(product=shop.mug, quantity=2).count() == 1
    assert StockLevel.objects.get(product=shop.mug, warehouse=shop.main).quantity == before - 2
    # Another form (a new key) is another sale.
    client.post(url, {**body, "idempotency_key": form_key(client.get(url).content.decode())})
    assert Sale.objects.filter(product=shop.mug, quantity=2).count() == 2


def test_sale_beyond_the_stock_is_refused_with_the_shortage(shop, pages):
    client = pages[Role.STAFF]
    before = (Sale.objects.count(), LedgerEntry.objects.count())
    response = client.post(
        f"/c/{shop.company.pk}/stock/sell/",
        {
            "product_sku": shop.products[2].sku,
            "warehouse_id": shop.main.pk,
            "quantity": "1",
            "idempotency_key": "s1",
        },
    )
    assert response.status_code == 400
    assert "Not enough stock. 1 requested, 0 available" in unescape(response.content.decode())
    assert (Sale.objects.count(), LedgerEntry.objects.count()) == before


def test_unknown_sku_is_an_error_on_its_input(shop, other_shop, pages):
    response = pages[Role.STAFF].post(
        f"/c/{shop.company.pk}/stock/receive/",
        {
            "product_sku": other_shop.mug.sku,
            "warehouse_id": shop.main.pk,
            "quantity": "1",
            "idempotency_key": "r1",
        },
    )
    assert field_errors(response.content.decode(), "product_sku") == [
        "No product with this SKU in this company."
    ]


def test_adjust_with_a_reason_and_transfer(shop, pages):
    client = pages[Role.STAFF]
    c = shop.company.pk
    level = StockLevel.objects.get(product=shop.mug, warehouse=shop.main)
    start = level.quantity
    response = client.post(
        f"/c/{c}/stock/adjust/",
        {
            "product_sku": shop.mug.sku,
            "warehouse_id": shop.main.pk,
            "reason": "damage",
            "change": "-3",
            "counted_quantity": "",
            "note": "dropped",
            "idempotency_key": "a1",
        },
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.filter(product=shop.mug).first()
    assert (entry.reason, entry.adjustment_reason, entry.change, entry.note) == (
        "adjustment",
        "damage",
        -3,
        "dropped",
    )
    # Both change and count: the serializer's message.
    html = client.post(
        f"/c/{c}/stock/adjust/",
        {
            "product_sku": shop.mug.sku,
            "warehouse_id": shop.main.pk,
            "reason": "count",
            "change": "1",
            "counted_quantity": "4",
            "idempotency_key": "a2",
        },
    ).content.decode()
    assert "Give exactly one of change and counted_quantity." in unescape(html)
    response = client.post(
        f"/c/{c}/stock/transfer/",
        {
            "product_sku": shop.mug.sku,
            "from_warehouse_id": shop.main.pk,
            "to_warehouse_id": shop.east.pk,
            "quantity": "5",
            "idempotency_key": "t1",
        },
    )
    assert response.status_code == 302
    assert StockLevel.objects.get(product=shop.mug, warehouse=shop.main).quantity == start - 8
    assert StockLevel.objects.get(product=shop.mug, warehouse=shop.east).quantity == 5


def test_warehouse_create_and_edit_use_the_api_rules(shop, pages):
    client = pages[Role.ADMIN]
    c = shop.company.pk
    response = client.post(
        f"/c/{c}/warehouses/new/",
        {"code": "MAIN", "name": "Dup", "address": "", "is_active": "true"},
    )
    assert field_errors(response.content.decode(), "code") == [
        "A warehouse with code 'MAIN' already exists in this company."
    ]
    response = client.post(f"/c/{c}/warehouses/new/", {"code": "bad code!", "name": "X"})
    assert field_errors(response.content.decode(), "code")
    response = client.post(
        f"/c/{c}/warehouses/new/",
        {"code": "WEST", "name": "West Depot", "address": "5 Mill Lane", "is_active": "true"},
    )
    assert response.status_code == 302
    west = Warehouse.objects.get(company=shop.company, code="WEST")
    client.post(
        f"/c/{c}/warehouses/{west.pk}/edit/",
        {"code": "WEST", "name": "West", "address": "", "is_active": "false"},
    )
    west.refresh_from_db()
    assert (west.name, west.is_active) == ("West", False)
    client.post(f"/c/{c}/product-types/new/", {"name": "Tea", "low_stock_threshold": "7"})
    assert ProductType.objects.get(company=shop.company, name="Tea").low_stock_threshold == 7


def test_owner_manages_members_as_the_api_allows(tenant_a, shop, pages):
    client = pages[Role.OWNER]
    c = shop.company.pk
    newcomer = make_user("newcomer")
    assert (
        client.post(
            f"/c/{c}/settings/members/", {"action": "add", "username": "newcomer", "role": "staff"}
        ).status_code
        == 302
    )
    membership = Membership.objects.get(user=newcomer, company=shop.company)
    client.post(
        f"/c/{c}/settings/members/", {"action": "role", "member_id": membership.pk, "role": "admin"}
    )
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    html = client.post(
        f"/c/{c}/settings/members/", {"action": "add", "username": "nobody", "role": "staff"}
    ).content.decode()
    assert "No active user with this username." in html
    # The last owner cannot step down: the service's 409.
    owner = Membership.objects.get(user=tenant_a.users[Role.OWNER], company=shop.company)
    response = client.post(
        f"/c/{c}/settings/members/", {"action": "role", "member_id": owner.pk, "role": "staff"}
    )
    assert response.status_code == 400 and "at least one owner" in unescape(
        response.content.decode()
    )
    client.post(f"/c/{c}/settings/members/", {"action": "remove", "member_id": membership.pk})
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_tokens_are_shown_once_and_revoked(tenant_a, shop, pages):
    client = pages[Role.VIEWER]
    url = f"/c/{shop.company.pk}/settings/tokens/"
    html = client.post(url, {"name": "laptop", "expires_in_days": "30"}).content.decode()
    clear = re.search(r'id="new-token" value="(sf_[^"]+)"', html).group(1)
    token = ApiToken.objects.get(user=tenant_a.users[Role.VIEWER], name="laptop")
    assert clear.startswith(f"sf_{token.prefix}") or token.prefix in clear
    assert clear not in client.get(url).content.decode()
    client.post(url, {"action": "revoke", "token_id": token.pk})
    token.refresh_from_db()
    assert token.revoked_at is not None
    html = client.post(url, {"name": "x" * 101}).content.decode()
    assert "Ensure this field has no more than 100 characters." in html
