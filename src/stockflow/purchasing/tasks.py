"""The worker's purchasing tasks (Django's task API: ``django_tasks``); each runs as the
order's company (``tenancy.dbcontext.tenant_task``)."""

from __future__ import annotations

from django_tasks import task

from stockflow.purchasing import sending
from stockflow.tenancy.dbcontext import tenant_task


def company_of_order(company_id: int, order_id: int) -> int:
    return company_id


@task()
@tenant_task(company_of_order)
def send_order_to_supplier(company_id: int, order_id: int) -> bool:
    """Email a placed order to its supplier (``sending``); idempotent: an order already sent
    is not sent again."""
    return sending.send_order_to_supplier(company_id, order_id)
