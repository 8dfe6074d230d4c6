"""Builders for purchasing tests: a shop (tests.alerts.conftest) plus orders placed through
the services."""

from __future__ import annotations

import pytest

from stockflow.purchasing import services
from stockflow.purchasing.models import PurchaseOrder
from tests.alerts.conftest import fetch_report, other_shop, shop  # noqa: F401

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


@pytest.fixture
def goods(shop):  # noqa: F811
    """A warehouse, a supplier and two products it sells (costs 2.5000 and 0.3333)."""
    warehouse = shop.warehouse("Main")
    warehouse.address = "1 Dock Road\nPortsmouth"
    warehouse.save()
    supplier = shop.supplier("Acme Supply", "orders@acme.example")
    mug = shop.product("Mug", threshold=10)
    tea = shop.product("Tea", threshold=5)
    shop.supply(mug, supplier, lead_time_days=4, unit_cost="2.5000", primary=True)
    shop.supply(tea, supplier, lead_time_days=9, unit_cost="0.3333", primary=True)
    return warehouse, supplier, mug, tea
