"""Fixtures of the purchasing tests: the low-stock report's shops (rows added one by one) and
goods sold by one supplier; the order builders are in tests.factories.purchasing."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import fetch_report, other_shop, shop  # noqa: F401


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
