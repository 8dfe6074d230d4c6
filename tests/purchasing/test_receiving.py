"""Receiving against a purchase order: one transaction through the stock services, ledger
``receipt`` entries referring to the order, never more than remains, idempotent, and safe
under concurrent receipts."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from stockflow.inventory.models import LedgerEntry, StockLevel
from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderLine
from stockflow.purchasing.services import cancel_order, close_order
from tests.factories import (
    PURCHASE_WRITE_BUDGET,
    assert_error,
    client_for,
    query_budget,
    run_concurrently,
)
from tests.factories.purchasing import draft, order_url, placed, receive

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _purchase_write_budget():
    with query_budget(PURCHASE_WRITE_BUDGET):
        yield


def receipt_body(order, quantities: dict) -> dict:
    lines = {line.product_id: line.pk for line in order.lines.all()}
    return {
        "lines": [
            {"line_id": lines[product.pk], "quantity": units}
            for product, units in quantities.items()
        ]
    }


def stock_of(product, warehouse) -> int:
    level = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    return 0 if level is None else level.quantity


def test_partial_then_full_receipt(tenant_a, goods):
    warehouse, supplier, mug, tea = goods
    order = placed(supplier, warehouse, (mug, 10), (tea, 4))

    first = tenant_a.staff.post(
        order_url(order, "/receipts"), receipt_body(order, {mug: 6}), format="json"
    )
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "partially_received"
    assert stock_of(mug, warehouse) == 6
    entry = LedgerEntry.objects.get(product=mug)
    assert (entry.reason, entry.reference_type, entry.reference_id, entry.change) == (
        "receipt",
        "purchase_order",
        order.pk,
        6,
    )

    second = tenant_a.staff.post(
        order_url(order, "/receipts"), receipt_body(order, {mug: 4, tea: 4}), format="json"
    )
    body = second.json()
    assert body["status"] == "received"
    assert body["received_at"] is not None
    assert [line["quantity_remaining"] for line in body["lines"]] == [0, 0]
    assert (stock_of(mug, warehouse), stock_of(tea, warehouse)) == (10, 4)
    assert LedgerEntry.objects.filter(reference_type="purchase_order").count() == 3
    call_command("verify_stock", stdout=StringIO())


def test_over_receipt_writes_nothing(tenant_a, goods):
    warehouse, supplier, mug, tea = goods
    order = placed(supplier, warehouse, (mug, 5), (tea, 5))
    receive(order, {mug: 3})
    response = tenant_a.staff.post(
        order_url(order, "/receipts"), receipt_body(order, {tea: 1, mug: 3}), format="json"
    )
    error = assert_error(response, 409, "over_receipt")
    assert [(line["requested"], line["remaining"]) for line in error["lines"]] == [(3, 2)]
    assert (stock_of(mug, warehouse), stock_of(tea, warehouse)) == (3, 0)
    assert list(
        PurchaseOrderLine.objects.order_by("id").values_list("quantity_received", flat=True)
    ) == [3, 0]
    assert PurchaseOrder.objects.get(pk=order.pk).status == "partially_received"


@pytest.mark.parametrize("status", ["draft", "cancelled", "closed", "received"])
def test_no_receipt_unless_ordered_or_partly_received(tenant_a, goods, status):
    warehouse, supplier, mug, tea = goods
    order = draft(supplier, warehouse, (mug, 5), (tea, 5))
    if status == "cancelled":
        order = cancel_order(order)
    elif status != "draft":
        order = placed(supplier, warehouse, (mug, 2), (tea, 2))
        order = receive(order, {mug: 2} if status == "closed" else {mug: 2, tea: 2})
        if status == "closed":
            order = close_order(order)
    ledger = LedgerEntry.objects.count()
    response = tenant_a.staff.post(
        order_url(order, "/receipts"), receipt_body(order, {tea: 1}), format="json"
    )
    assert_error(response, 409, "invalid_status")
    assert LedgerEntry.objects.count() == ledger


def test_bad_receipt_bodies(tenant_a, goods):
    warehouse, supplier, mug, tea = goods
    order = placed(supplier, warehouse, (mug, 5))
    other = placed(supplier, warehouse, (tea, 5))
    foreign_line = other.lines.get().pk
    line = order.lines.get().pk
    for body, field in [
        ({"lines": []}, "lines"),
        ({"lines": [{"line_id": line, "quantity": 0}]}, "lines"),
        ({"lines": [{"line_id": line, "quantity": -1}]}, "lines"),
        ({"lines": [{"line_id": foreign_line, "quantity": 1}]}, "lines"),
        ({"lines": [{"line_id": line, "quantity": 1}, {"line_id": line, "quantity": 1}]}, "lines"),
    ]:
        response = tenant_a.staff.post(order_url(order, "/receipts"), body, format="json")
        assert field in assert_error(response, 400, "validation_error")["fields"], body
    assert not LedgerEntry.objects.filter(reference_type="purchase_order").exists()


def test_a_retry_with_the_same_key_receives_once(tenant_a, goods):
    warehouse, supplier, mug, _ = goods
    order = placed(supplier, warehouse, (mug, 5))
    body = receipt_body(order, {mug: 2})
    headers = {"HTTP_IDEMPOTENCY_KEY": "dock-42"}
    first = tenant_a.staff.post(order_url(order, "/receipts"), body, format="json", **headers)
    again = tenant_a.staff.post(order_url(order, "/receipts"), body, format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert stock_of(mug, warehouse) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_receipts_never_over_receive(tenant_a, shop):
    """8 threads each try to receive 3 of the 10 units of one line (and 1 of another),
    through the API: exactly 3 succeed for the first line, the rest are over_receipt."""
    warehouse = shop.warehouse()
    supplier = shop.supplier()
    mug, tea = shop.product("Mug"), shop.product("Tea")
    shop.supply(mug, supplier)
    shop.supply(tea, supplier)
    order = placed(supplier, warehouse, (mug, 10), (tea, 100))
    body = receipt_body(order, {mug: 3, tea: 1})
    clients = [client_for(tenant_a.users["staff"]) for _ in range(8)]

    def post(client):
        return lambda: (
            client.post(
                order_url(order, "/receipts"),
                body,
                format="json",
                max_queries=PURCHASE_WRITE_BUDGET,
            ).status_code
        )

    statuses = run_concurrently([post(client) for client in clients])
    assert sorted(statuses) == [201] * 3 + [409] * 5
    assert stock_of(mug, warehouse) == 9
    assert stock_of(tea, warehouse) == 3
    line = PurchaseOrderLine.objects.get(order=order, product=mug)
    assert line.quantity_received == 9
    call_command("verify_stock", stdout=StringIO())
