"""The events of purchase orders, in the event table the webhooks read, recorded in the
transaction of the change."""

from __future__ import annotations

import pytest

from stockflow.inventory.models import StockEvent
from tests.factories import assert_error
from tests.factories.purchasing import draft, order_url, receive

pytestmark = pytest.mark.django_db


def order_events():
    return list(StockEvent.objects.filter(type__startswith="purchase_order.").order_by("id"))


def test_ordered_and_received_events(tenant_a, goods):
    warehouse, supplier, mug, tea = goods
    order = draft(supplier, warehouse, (mug, 4), (tea, 2))
    assert order_events() == []
    tenant_a.admin.post(order_url(order, "/order"), {}, format="json")
    order.refresh_from_db()
    receive(order, {mug: 4})
    receive(order, {tea: 2})

    ordered, first, second = order_events()
    assert ordered.type == "purchase_order.ordered"
    assert (ordered.company_id, ordered.warehouse_id, ordered.product_id) == (
        tenant_a.company.pk,
        warehouse.pk,
        None,
    )
    assert ordered.data["number"] == order.number
    assert [line["quantity_ordered"] for line in ordered.data["lines"]] == [4, 2]
    assert (first.type, first.data["status"]) == ("purchase_order.received", "partially_received")
    assert [line["received_now"] for line in first.data["lines"]] == [4, 0]
    assert (second.data["status"], [line["received_now"] for line in second.data["lines"]]) == (
        "received",
        [0, 2],
    )
    listed = tenant_a.viewer.get("/api/events", {"type": "purchase_order.ordered"}).json()
    assert [event["id"] for event in listed["results"]] == [ordered.pk]


def test_a_refused_change_records_no_event(tenant_a, goods):
    warehouse, supplier, mug, _ = goods
    order = draft(supplier, warehouse, (mug, 4))
    tenant_a.admin.post(order_url(order, "/order"), {}, format="json")
    line = order.lines.get().pk
    response = tenant_a.staff.post(
        order_url(order, "/receipts"), {"lines": [{"line_id": line, "quantity": 5}]}, format="json"
    )
    assert_error(response, 409, "over_receipt")
    assert [event.type for event in order_events()] == ["purchase_order.ordered"]
