"""Every page renders for a member, within a fixed number of queries whatever the data."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stockflow.inventory import catalog_stock
from stockflow.inventory.sales import record_sale
from stockflow.tenancy.models import Role

pytestmark = pytest.mark.django_db

# Each page's queries: session, user, memberships, then its own reads. Pinned well below 15.
MAX_QUERIES = 15


def page_urls(shop) -> dict[str, str]:
    c, p = shop.company.pk, shop.mug.pk
    return {
        "dashboard": f"/c/{c}/",
        "dashboard chart of one warehouse": f"/c/{c}/?warehouse={shop.main.pk}",
        "low stock": f"/c/{c}/low-stock/",
        "low stock sorted": f"/c/{c}/low-stock/?sort=sku&warehouse_id={shop.main.pk}",
        "products": f"/c/{c}/products/?q=mug&sort=-price",
        "product": f"/c/{c}/products/{p}/",
        "new product": f"/c/{c}/products/new/",
        "edit product": f"/c/{c}/products/{p}/edit/",
        "receive": f"/c/{c}/stock/receive/?product={p}",
        "adjust": f"/c/{c}/stock/adjust/",
        "transfer": f"/c/{c}/stock/transfer/",
        "sell": f"/c/{c}/stock/sell/",
        "warehouses": f"/c/{c}/warehouses/",
        "suppliers": f"/c/{c}/suppliers/",
        "product types": f"/c/{c}/product-types/",
        "new warehouse": f"/c/{c}/warehouses/new/",
        "edit supplier": f"/c/{c}/suppliers/{shop.mug_supplier.pk}/edit/",
        "members": f"/c/{c}/settings/members/",
        "tokens": f"/c/{c}/settings/tokens/",
    }


PAGE_NAMES = [
    "dashboard",
    "dashboard chart of one warehouse",
    "low stock",
    "low stock sorted",
    "products",
    "product",
    "new product",
    "edit product",
    "receive",
    "adjust",
    "transfer",
    "sell",
    "warehouses",
    "suppliers",
    "product types",
    "new warehouse",
    "edit supplier",
    "members",
    "tokens",
]


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_renders_with_bounded_queries(name, shop, pages, django_assert_max_num_queries):
    url = page_urls(shop)[name]
    with django_assert_max_num_queries(MAX_QUERIES):
        response = pages[Role.OWNER].get(url)
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    assert "<title>" in html and "<main" in html and "<header" in html and "<nav" in html


@pytest.mark.parametrize("name", ["dashboard", "low stock", "products", "product"])
def test_query_count_does_not_grow_with_the_data(name, shop, pages, django_assert_num_queries):
    client = pages[Role.OWNER]
    url = page_urls(shop)[name]
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    add_products_with_sales(shop, 12)
    with django_assert_num_queries(len(small)):
        response = client.get(url)
    assert response.status_code == 200


def add_products_with_sales(shop, count: int) -> None:
    """More products, stock levels below threshold and sales in the shop's company."""
    for index in range(count):
        product = catalog_stock.create_product(
            company_id=shop.company.pk,
            name=f"Extra {index}",
            sku=f"EXTRA-{shop.company.pk}-{index}",
            price=Decimal("3.00"),
            product_type=shop.kind,
            warehouse=shop.main if index % 2 else shop.east,
            initial_quantity=5,
        )
        record_sale(product=product, warehouse=shop.main if index % 2 else shop.east, quantity=1)


def assert_inputs_labelled(name: str, html: str) -> None:
    """Every visible input, select and textarea of a page has a label naming it."""
    labels = set(re.findall(r'<label for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag:
            continue
        match = re.search(r'id="([^"]+)"', tag)
        assert match, (name, tag)
        assert match.group(1) in labels, (name, tag)


def test_every_input_has_a_label(shop, pages):
    for name, url in page_urls(shop).items():
        assert_inputs_labelled(name, pages[Role.OWNER].get(url).content.decode())
