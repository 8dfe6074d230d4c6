"""Read queries of purchasing: orders with their lines and exact totals."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from stockflow.catalog.models import COST_DECIMAL_PLACES
from stockflow.purchasing.models import (
    OPEN_STATUSES,
    PurchaseOrder,
    PurchaseOrderLine,
)

COST_STEP = Decimal(1).scaleb(-COST_DECIMAL_PLACES)


def orders_with_lines(queryset: QuerySet[PurchaseOrder]) -> QuerySet[PurchaseOrder]:
    """Orders with supplier, warehouse and lines (with their products): three queries for a
    page of orders, whatever its size."""
    lines = PurchaseOrderLine.objects.select_related("product").order_by("id")
    return queryset.select_related("supplier", "warehouse").prefetch_related(
        Prefetch("lines", queryset=lines)
    )


def overdue_condition(today=None) -> Q:
    """Orders still expected (ordered or partly received) whose expected date has passed."""
    today = today or timezone.now().date()
    return Q(status__in=OPEN_STATUSES, expected_date__lt=today)


def is_overdue(order: PurchaseOrder, today=None) -> bool:
    """``overdue_condition`` for one order already read."""
    today = today or timezone.now().date()
    return (
        order.status in OPEN_STATUSES
        and order.expected_date is not None
        and order.expected_date < today
    )


def line_total(line: PurchaseOrderLine) -> Decimal | None:
    """quantity ordered × unit cost, exact (``None`` while the line has no cost)."""
    if line.unit_cost is None:
        return None
    return (line.unit_cost * line.quantity_ordered).quantize(COST_STEP)


def order_total(lines: list[PurchaseOrderLine]) -> Decimal | None:
    """The sum of the line totals, exact; ``None`` while a line has no cost."""
    totals = [line_total(line) for line in lines]
    if any(total is None for total in totals):
        return None
    return sum(totals, Decimal(0)).quantize(COST_STEP)


def order_document(order: PurchaseOrder) -> dict:
    """What the printable order and the supplier's email show. ``order`` comes from
    ``orders_with_lines``."""
    lines = list(order.lines.all())
    return {
        "order": order,
        "company": order.company,
        "supplier": order.supplier,
        "warehouse": order.warehouse,
        "lines": [
            {
                "sku": line.product.sku,
                "name": line.product.name,
                "quantity": line.quantity_ordered,
                "unit_cost": line.unit_cost,
                "total": line_total(line),
            }
            for line in lines
        ],
        "total": order_total(lines),
    }
