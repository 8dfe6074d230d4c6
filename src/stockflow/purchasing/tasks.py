"""The worker's purchasing tasks (Django's task API: ``django_tasks``)."""

from __future__ import annotations

from django_tasks import task

from stockflow.purchasing import sending


@task()
def send_order_to_supplier(company_id: int, order_id: int) -> bool:
    """Email a placed order to its supplier (``sending``); idempotent: an order already sent
    is not sent again."""
    return sending.send_order_to_supplier(company_id, order_id)
