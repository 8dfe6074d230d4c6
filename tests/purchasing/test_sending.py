"""Sending a placed order to the supplier (HTML email, CSV attached, after commit) and the
printable document."""

from __future__ import annotations

import pytest
from django.core import mail

from stockflow.purchasing.models import PurchaseOrder
from tests.factories import assert_error
from tests.factories.purchasing import draft, order_url
from tests.notifications.receiver import run_worker_once

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_ordering_with_send_emails_the_supplier_through_the_worker(tenant_a, goods):
    warehouse, supplier, mug, tea = goods
    order = draft(supplier, warehouse, (mug, 3), (tea, 7))
    response = tenant_a.admin.post(
        order_url(order, "/order"), {"send_to_supplier": True}, format="json"
    )
    assert response.status_code == 200, response.content
    assert mail.outbox == []  # the worker sends it
    run_worker_once()
    run_worker_once()  # a second run sends nothing more
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["orders@acme.example"]
    assert order.number in message.subject
    html, kind = message.alternatives[0]
    assert kind == "text/html"
    for text in (mug.sku, "2.5000", "7.5000", "9.8331", "1 Dock Road", "Portsmouth"):
        assert text in html
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == (f"{order.number}.csv", "text/csv")
    assert f"{mug.sku},Mug,3,2.5000,7.5000" in content
    assert PurchaseOrder.objects.get(pk=order.pk).sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_ordering_without_send_sends_nothing(tenant_a, goods):
    warehouse, supplier, mug, _ = goods
    order = draft(supplier, warehouse, (mug, 1))
    tenant_a.admin.post(order_url(order, "/order"), {}, format="json")
    run_worker_once()
    assert mail.outbox == []
    assert PurchaseOrder.objects.get(pk=order.pk).sent_at is None


def test_a_supplier_without_email_cannot_be_sent_to(tenant_a, shop, goods):
    warehouse, _, mug, _ = goods
    silent = shop.supplier("Silent")
    silent.contact_email = ""
    silent.save()
    shop.supply(mug, silent)
    order = draft(silent, warehouse, (mug, 1))
    response = tenant_a.admin.post(
        order_url(order, "/order"), {"send_to_supplier": True}, format="json"
    )
    assert "send_to_supplier" in assert_error(response, 400, "validation_error")["fields"]
    assert PurchaseOrder.objects.get(pk=order.pk).status == "draft"


def test_the_printable_document(tenant_a, tenant_b, goods):
    warehouse, supplier, mug, _ = goods
    order = draft(supplier, warehouse, (mug, 4))
    response = tenant_a.viewer.get(order_url(order, "/document"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert order.number in page and mug.sku in page and "10.0000" in page
    assert_error(tenant_b.owner.get(order_url(order, "/document")), 404, "not_found")
