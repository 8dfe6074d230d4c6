"""Sending a placed order to the supplier's contact: an HTML email (the printable order)
with the order as a CSV attachment; the order records when it was sent.

``send_order_to_supplier`` runs in the worker (``tasks.send_order_to_supplier``, enqueued when
the placing transaction commits), through Django's email API. An order already sent is not
sent again, so a task run twice sends one email."""

from __future__ import annotations

import csv
import io
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from stockflow.purchasing import selectors
from stockflow.purchasing.models import PurchaseOrder

logger = logging.getLogger("stockflow.purchasing")


def order_csv(document: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sku", "name", "quantity", "unit_cost", "line_total"])
    for line in document["lines"]:
        writer.writerow(
            [line["sku"], line["name"], line["quantity"], line["unit_cost"], line["total"]]
        )
    writer.writerow(["", "", "", "total", document["total"]])
    return out.getvalue()


def render_order_html(document: dict) -> str:
    return render_to_string("purchasing/order_document.html", document)


def send_order_to_supplier(company_id: int, order_id: int) -> bool:
    """Email the order to its supplier's contact and record ``sent_at``; False (logged) when
    the order is gone, the supplier has no email, or the mail server refused it."""
    order = (
        selectors.orders_with_lines(PurchaseOrder.objects.filter(company_id=company_id))
        .select_related("company")
        .filter(pk=order_id)
        .first()
    )
    if order is None or order.sent_at is not None or not order.supplier.contact_email:
        return False
    document = selectors.order_document(order)
    message = EmailMultiAlternatives(
        subject=f"Purchase order {order.number} from {order.company.name}",
        body=order_csv(document),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.supplier.contact_email],
    )
    message.attach_alternative(render_order_html(document), "text/html")
    message.attach(f"{order.number}.csv", order_csv(document), "text/csv")
    try:
        message.send()
    except Exception:
        logger.exception("sending purchase order %s failed", order.number)
        return False
    PurchaseOrder.objects.filter(company_id=company_id, pk=order_id).update(sent_at=timezone.now())
    return True
