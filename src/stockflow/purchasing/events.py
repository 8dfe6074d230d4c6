"""The events of purchase orders (SPEC §4.2): ``purchase_order.ordered`` when an order is
placed, ``purchase_order.received`` on each receipt against it. Recorded here, in the
transaction of the change, and nowhere else, in the event table of the inventory layer."""

from __future__ import annotations

from stockflow.inventory.models import StockEvent, StockEventType
from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderLine

ORDERED = StockEventType.PURCHASE_ORDER_ORDERED
RECEIVED = StockEventType.PURCHASE_ORDER_RECEIVED


def event_data(
    order: PurchaseOrder, lines: list[PurchaseOrderLine], received: dict[int, int] | None = None
) -> dict:
    return {
        "purchase_order_id": order.pk,
        "number": order.number,
        "status": order.status,
        "supplier_id": order.supplier_id,
        "warehouse_id": order.warehouse_id,
        "expected_date": order.expected_date.isoformat() if order.expected_date else None,
        "lines": [
            {
                "line_id": line.pk,
                "product_id": line.product_id,
                "quantity_ordered": line.quantity_ordered,
                "quantity_received": line.quantity_received,
                **({"received_now": received.get(line.pk, 0)} if received is not None else {}),
            }
            for line in lines
        ],
    }


def record_order_event(
    order: PurchaseOrder,
    event_type: str,
    *,
    lines: list[PurchaseOrderLine],
    received: dict[int, int] | None = None,
) -> StockEvent:
    """Record ``event_type`` for ``order`` in the current transaction, in the event table of
    the inventory layer (read by the webhooks like the stock events)."""
    return StockEvent.objects.create(
        company_id=order.company_id,
        type=event_type,
        warehouse_id=order.warehouse_id,
        data=event_data(order, lines, received),
    )
