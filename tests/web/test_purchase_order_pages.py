"""Purchase order pages: drafts typed line by line and validated by the API's serializers and
services (their messages beside the inputs), placed, received in parts through the receipt
service once per form, cancelled; drafts from the low-stock report's ticked alerts; roles and
tenant isolation; a fixed number of queries per page."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stockflow.inventory.models import LedgerEntry, ReferenceType, StockLevel
from stockflow.inventory.sales import record_sale
from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from stockflow.tenancy.models import Role
from tests.factories.purchasing import draft, placed
from tests.web.test_access import assert_app_error
from tests.web.test_forms import field_errors, form_key
from tests.web.test_pages import MAX_QUERIES, assert_inputs_labelled

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(shop) -> PurchaseOrder:
    """A draft to Ceramica for MAIN: 10 Harbor at the link's 4.00, 5 Alpine at 6.50."""
    return draft(shop.mug_supplier, shop.main, (shop.mug, 10), (shop.products[1], 5, "6.50"))


def orders_url(shop, suffix: str = "") -> str:
    return f"/c/{shop.company.pk}/purchase-orders/{suffix}"


def state() -> tuple:
    return (
        PurchaseOrder.objects.count(),
        list(PurchaseOrderLine.objects.values_list("quantity_ordered", "quantity_received")),
        LedgerEntry.objects.count(),
        list(PurchaseOrder.objects.values_list("status", flat=True)),
    )


def draft_body(shop, *lines, **changes) -> dict:
    body = {
        "supplier_id": str(shop.mug_supplier.pk),
        "warehouse_id": str(shop.main.pk),
        "expected_date": "",
        "notes": "",
        "action": "save",
    }
    for row in range(max(3, len(lines))):
        sku, quantity, cost = lines[row] if row < len(lines) else ("", "", "")
        body.update(
            {
                f"line-{row}-sku": sku,
                f"line-{row}-quantity": quantity,
                f"line-{row}-unit_cost": cost,
            }
        )
    return {**body, **changes}


def page_urls(shop, order) -> dict[str, str]:
    return {
        "list": orders_url(shop),
        "list filtered": orders_url(shop, f"?status=draft&supplier_id={shop.mug_supplier.pk}"),
        "order": orders_url(shop, f"{order.pk}/"),
        "new": orders_url(shop, "new/"),
        "edit": orders_url(shop, f"{order.pk}/edit/"),
        "print": orders_url(shop, f"{order.pk}/print/"),
    }


@pytest.mark.parametrize("name", ["list", "list filtered", "order", "new", "edit", "print"])
def test_pages_render_with_bounded_queries(name, shop, order, pages, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = pages[Role.OWNER].get(page_urls(shop, order)[name])
    assert response.status_code == 200
    html = response.content.decode()
    assert order.number in html or name == "new"
    if name != "print":  # the printable document is the supplier's page, without the app's
        assert "<title>" in html and "<main" in html and "<nav" in html and "<h1" in html
        assert_inputs_labelled(name, html)


def test_an_ordered_order_with_its_receipt_form_within_the_budget(
    shop, order, pages, django_assert_max_num_queries
):
    pages[Role.ADMIN].post(orders_url(shop, f"{order.pk}/order/"))
    with django_assert_max_num_queries(MAX_QUERIES):
        html = pages[Role.STAFF].get(orders_url(shop, f"{order.pk}/")).content.decode()
    assert "Record receipt" in html and f'name="receive-{order.lines.first().pk}"' in html
    assert_inputs_labelled("receipt", html)


def test_the_list_makes_the_same_queries_whatever_the_orders(shop, order, pages):
    client = pages[Role.VIEWER]
    client.get(orders_url(shop))
    with CaptureQueriesContext(connection) as few:
        client.get(orders_url(shop))
    for _ in range(6):
        draft(shop.mug_supplier, shop.east, (shop.mug, 1), (shop.products[2], 2, "1.00"))
    with CaptureQueriesContext(connection) as more:
        html = client.get(orders_url(shop)).content.decode()
    assert len(more) == len(few)
    assert html.count('<tr data-order="PO-') == 7


def test_the_list_filters_by_status_and_supplier(shop, order, pages):
    other = placed(shop.mug_supplier, shop.east, (shop.mug, 3, "4.00"))
    html = pages[Role.VIEWER].get(orders_url(shop, "?status=ordered")).content.decode()
    assert other.number in html and order.number not in html
    html = pages[Role.VIEWER].get(orders_url(shop, "?status=nonsense")).content.decode()
    assert "Select a valid choice." in unescape(html) and 'data-order="' not in html


def test_create_a_draft_with_lines_once_per_form(shop, pages):
    client = pages[Role.ADMIN]
    key = form_key(client.get(orders_url(shop, "new/")).content.decode())
    alpine = shop.products[1]
    body = draft_body(
        shop, (shop.mug.sku, "12", ""), (alpine.sku, "3", "5.75"), idempotency_key=key
    )
    response = client.post(orders_url(shop, "new/"), body)
    order = PurchaseOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == orders_url(shop, f"{order.pk}/")
    assert (order.status, order.supplier_id, order.warehouse_id, order.number) == (
        PurchaseOrderStatus.DRAFT,
        shop.mug_supplier.pk,
        shop.main.pk,
        "PO-000001",
    )
    # An empty unit cost takes the supplier's (4.00 for Harbor).
    assert list(order.lines.values_list("product_id", "quantity_ordered", "unit_cost")) == [
        (shop.mug.pk, 12, Decimal("4.0000")),
        (alpine.pk, 3, Decimal("5.7500")),
    ]
    again = client.post(orders_url(shop, "new/"), body)
    assert again["Location"] == response["Location"] and PurchaseOrder.objects.count() == 1
    html = client.get(response["Location"]).content.decode()
    assert 'data-total="order">65.25<' in html  # 12 × 4.00 + 3 × 5.75


def test_draft_errors_are_the_api_messages_beside_their_inputs(shop, other_shop, pages):
    client = pages[Role.ADMIN]
    url = orders_url(shop, "new/")
    before = state()
    html = client.post(
        url,
        draft_body(shop, (other_shop.mug.sku, "1", ""), ("", "", ""), idempotency_key="d1"),
    ).content.decode()
    assert field_errors(html, "line-0-sku") == ["No product with this SKU in this company."]
    response = client.post(
        url,
        draft_body(
            shop,
            (shop.mug.sku, "0", ""),
            (shop.products[1].sku, "2", "1.23456"),
            supplier_id="",
            idempotency_key="d2",
        ),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert field_errors(html, "supplier_id") == ["This field is required."]
    assert field_errors(html, "line-0-quantity") == [
        "Ensure this value is greater than or equal to 1."
    ]
    assert field_errors(html, "line-1-unit_cost")
    # The service's rule (one line per product), on the row at fault: the third row.
    html = client.post(
        url,
        draft_body(
            shop,
            (shop.mug.sku, "1", ""),
            ("", "", ""),
            (shop.mug.sku, "2", ""),
            idempotency_key="d3",
        ),
    ).content.decode()
    assert field_errors(html, "line-2-sku") == ["Already on another line of this order."]
    assert state() == before
    # What was typed stays, and the form keeps its key.
    assert f'value="{shop.mug.sku}"' in html and 'value="d3"' in html


def test_more_lines_adds_rows_and_writes_nothing(shop, pages):
    body = draft_body(shop, (shop.mug.sku, "1", ""), action="more", idempotency_key="m1")
    html = pages[Role.ADMIN].post(orders_url(shop, "new/"), body).content.decode()
    assert 'name="line-7-sku"' in html and 'name="line-8-sku"' not in html
    assert f'value="{shop.mug.sku}"' in html and PurchaseOrder.objects.count() == 0


def test_edit_a_draft_replaces_its_lines(shop, order, pages):
    client = pages[Role.ADMIN]
    html = client.get(orders_url(shop, f"{order.pk}/edit/")).content.decode()
    assert f'value="{shop.mug.sku}"' in html and 'value="6.5000"' in html
    body = draft_body(
        shop,
        (shop.products[2].sku, "7", "2.00"),
        warehouse_id=str(shop.east.pk),
        expected_date="2030-01-15",
        notes="Fragile",
    )
    response = client.post(orders_url(shop, f"{order.pk}/edit/"), body)
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.warehouse_id, str(order.expected_date), order.notes) == (
        shop.east.pk,
        "2030-01-15",
        "Fragile",
    )
    assert list(order.lines.values_list("product_id", "quantity_ordered")) == [
        (shop.products[2].pk, 7)
    ]


def test_place_then_receive_in_two_parts_through_the_receipt_service(shop, order, pages):
    admin, staff = pages[Role.ADMIN], pages[Role.STAFF]
    mug_line, alpine_line = order.lines.all()
    response = admin.post(orders_url(shop, f"{order.pk}/order/"), {"send_to_supplier": "false"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.ORDERED and order.expected_date is not None
    start = StockLevel.objects.get(product=shop.mug, warehouse=shop.main).quantity

    url = orders_url(shop, f"{order.pk}/receive/")
    page = staff.get(orders_url(shop, f"{order.pk}/")).content.decode()
    key = form_key(page)
    body = {f"receive-{mug_line.pk}": "4", f"receive-{alpine_line.pk}": "", "note": ""}
    assert staff.post(url, {**body, "idempotency_key": key}).status_code == 302
    again = staff.post(url, {**body, "idempotency_key": key}, follow=True)
    assert "already submitted" in again.content.decode()
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert StockLevel.objects.get(product=shop.mug, warehouse=shop.main).quantity == start + 4

    # More than remains: the service's refusal on the line's input; nothing written.
    before = state()
    over = {f"receive-{mug_line.pk}": "7", f"receive-{alpine_line.pk}": "5", "note": ""}
    response = staff.post(url, {**over, "idempotency_key": "r2"})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), f"receive-{mug_line.pk}") == [
        "7 requested, 6 left to receive."
    ]
    assert state() == before
    rest = {f"receive-{mug_line.pk}": "6", f"receive-{alpine_line.pk}": "5", "note": "Dock 2"}
    assert staff.post(url, {**rest, "idempotency_key": "r3"}).status_code == 302
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED
    receipts = LedgerEntry.objects.filter(
        reference_type=ReferenceType.PURCHASE_ORDER, reference_id=order.pk
    ).order_by("id")
    assert [(e.product_id, e.change, e.note) for e in receipts] == [
        (shop.mug.pk, 4, order.number),
        (shop.mug.pk, 6, "Dock 2"),
        (shop.products[1].pk, 5, "Dock 2"),
    ]
    html = staff.get(orders_url(shop, f"{order.pk}/")).content.decode()
    assert "Record receipt" not in html and 'data-status="received"' in html


def test_cancel_and_a_transition_the_status_refuses(shop, order, pages):
    admin = pages[Role.ADMIN]
    assert admin.post(orders_url(shop, f"{order.pk}/cancel/")).status_code == 302
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.CANCELLED
    response = admin.post(orders_url(shop, f"{order.pk}/order/"))
    assert response.status_code == 400
    assert "A cancelled purchase order cannot be ordered." in unescape(response.content.decode())
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.CANCELLED
    html = admin.get(orders_url(shop, f"{order.pk}/")).content.decode()
    assert "Place the order" not in html and "Cancel the order" not in html
    assert "/edit/" not in html


def test_an_empty_draft_cannot_be_placed(shop, pages):
    empty = draft(shop.mug_supplier, shop.main)
    response = pages[Role.ADMIN].post(orders_url(shop, f"{empty.pk}/order/"))
    assert response.status_code == 400
    assert "An order needs at least one line." in unescape(response.content.decode())


def test_roles_on_the_purchase_order_pages(shop, order, pages):
    viewer, staff = pages[Role.VIEWER], pages[Role.STAFF]
    line = order.lines.first()
    before = state()
    for client, url, body in [
        (viewer, orders_url(shop, "new/"), draft_body(shop, (shop.mug.sku, "1", ""))),
        (viewer, orders_url(shop, f"{order.pk}/edit/"), draft_body(shop)),
        (viewer, orders_url(shop, f"{order.pk}/order/"), {}),
        (viewer, orders_url(shop, f"{order.pk}/cancel/"), {}),
        (viewer, orders_url(shop, f"{order.pk}/receive/"), {f"receive-{line.pk}": "1"}),
        (staff, orders_url(shop, "new/"), draft_body(shop, (shop.mug.sku, "1", ""))),
        (staff, orders_url(shop, f"{order.pk}/order/"), {}),
        (staff, orders_url(shop, f"{order.pk}/cancel/"), {}),
    ]:
        assert_app_error(client.post(url, body), 403)
    assert state() == before
    assert_app_error(staff.get(orders_url(shop, "new/")), 403)
    for client in (viewer, staff):
        listing = client.get(orders_url(shop)).content.decode()
        detail = client.get(orders_url(shop, f"{order.pk}/")).content.decode()
        assert "New purchase order" not in listing
        for button in ("Place the order", "Cancel the order", "/edit/"):
            assert button not in detail
    placed_order = placed(shop.mug_supplier, shop.main, (shop.mug, 2, "4.00"))
    viewer_page = viewer.get(orders_url(shop, f"{placed_order.pk}/")).content.decode()
    assert "Record receipt" not in viewer_page
    assert "Record receipt" in staff.get(orders_url(shop, f"{placed_order.pk}/")).content.decode()


def test_another_companys_order_is_the_404_page(shop, order, other_shop, pages):
    foreign = draft(other_shop.mug_supplier, other_shop.main, (other_shop.mug, 3))
    client = pages[Role.OWNER]
    for suffix in ("", "edit/", "print/"):
        assert_app_error(client.get(orders_url(shop, f"{foreign.pk}/{suffix}")), 404)
    for suffix in ("order/", "cancel/", "receive/", "edit/"):
        assert_app_error(client.post(orders_url(shop, f"{foreign.pk}/{suffix}"), {}), 404)
    foreign.refresh_from_db()
    assert foreign.status == PurchaseOrderStatus.DRAFT
    # A supplier of another company in a draft of this one: the serializer's 400.
    response = client.post(
        orders_url(shop, f"{order.pk}/edit/"),
        draft_body(shop, (shop.mug.sku, "1", ""), supplier_id=str(other_shop.mug_supplier.pk)),
    )
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "supplier_id")
    order.refresh_from_db()
    assert order.supplier_id == shop.mug_supplier.pk


def test_print_is_the_order_document(shop, order, pages):
    html = pages[Role.VIEWER].get(orders_url(shop, f"{order.pk}/print/")).content.decode()
    assert f"<h1>Purchase order {order.number}</h1>" in html
    assert "Ceramica Ltd" in html and "72.5000" in html  # 10 × 4.00 + 5 × 6.50


# --- drafts from the low-stock report --------------------------------------------------------


@pytest.fixture
def alerts(shop):
    """Alpine (25 in MAIN, threshold 10) sold down to 9 over the shop's 5 days of sales."""
    record_sale(product=shop.products[1], warehouse=shop.main, quantity=11)
    return shop


def low_stock_url(shop) -> str:
    return f"/c/{shop.company.pk}/low-stock/"


def test_ticked_alerts_become_drafts_with_links_to_them(alerts, pages):
    shop = alerts
    client = pages[Role.ADMIN]
    page = client.get(low_stock_url(shop) + "?days=30").content.decode()
    alpine = shop.products[1]
    assert f'name="product_ids" value="{alpine.pk}"' in page
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    body = {
        "product_ids": [alpine.pk],
        "days": "30",
        "cover_days": "30",
        "query": "days=30",
        "idempotency_key": key,
    }
    response = client.post(low_stock_url(shop), body)
    assert response.status_code == 302 and response["Location"] == low_stock_url(shop) + "?days=30"
    order = PurchaseOrder.objects.get()
    assert order.status == PurchaseOrderStatus.DRAFT and order.warehouse_id == shop.main.pk
    line = order.lines.get()
    assert line.product_id == alpine.pk and line.quantity_ordered > 0
    html = client.get(response["Location"]).content.decode()
    assert f'1 draft order created: <a href="{orders_url(shop, f"{order.pk}/")}">PO-000001</a>' in (
        html
    )
    client.post(low_stock_url(shop), body)  # the same form again
    assert PurchaseOrder.objects.count() == 1


def test_only_owners_and_admins_draft_from_alerts(alerts, pages):
    shop = alerts
    body = {"product_ids": [shop.products[1].pk], "idempotency_key": "x1"}
    for role in (Role.VIEWER, Role.STAFF):
        html = pages[role].get(low_stock_url(shop)).content.decode()
        assert 'name="product_ids"' not in html and "Create draft orders" not in html
        assert_app_error(pages[role].post(low_stock_url(shop), body), 403)
    assert PurchaseOrder.objects.count() == 0


def test_nothing_ticked_creates_nothing(alerts, pages):
    response = pages[Role.ADMIN].post(low_stock_url(alerts), {"idempotency_key": "x2"}, follow=True)
    assert "Tick the alerts to order first." in response.content.decode()
    assert PurchaseOrder.objects.count() == 0


def test_low_stock_page_with_its_order_form_within_the_budget(
    alerts, pages, django_assert_max_num_queries
):
    with django_assert_max_num_queries(MAX_QUERIES):
        html = pages[Role.OWNER].get(low_stock_url(alerts)).content.decode()
    assert "Create draft orders" in html
    assert_inputs_labelled("low stock", html)
