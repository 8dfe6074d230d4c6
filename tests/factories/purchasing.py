"""Purchase orders through the purchasing services: drafts, placed orders, receipts."""

from __future__ import annotations

from stockflow.purchasing import services
from stockflow.purchasing.models import PurchaseOrder

ORDERS = "/api/purchase-orders"


def order_url(order, suffix: str = "") -> str:
    pk = order if isinstance(order, int) else order.pk
    return f"{ORDERS}/{pk}{suffix}"


def draft(supplier, warehouse, *lines, expected_date=None) -> PurchaseOrder:
    """A draft of (product, quantity[, unit cost]) lines."""
    return services.create_order(
        supplier=supplier,
        warehouse=warehouse,
        lines=[services.LineInput(*line) for line in lines],
        expected_date=expected_date,
    )


def placed(supplier, warehouse, *lines, expected_date=None) -> PurchaseOrder:
    return services.place_order(draft(supplier, warehouse, *lines, expected_date=expected_date))


def receive(order: PurchaseOrder, quantities: dict) -> PurchaseOrder:
    """Receive {product: units} against ``order``."""
    lines = {line.product_id: line.pk for line in order.lines.all()}
    return services.receive_order(
        order,
        [services.ReceiptLine(lines[product.pk], units) for product, units in quantities.items()],
    )
