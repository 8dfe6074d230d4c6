"""Fixtures of the catalog tests."""

from __future__ import annotations

import pytest

from stockflow.catalog.models import Warehouse
from tests.factories import make_warehouse


@pytest.fixture
def warehouse_a(tenant_a) -> Warehouse:
    return make_warehouse(tenant_a.company, "MAIN", name="Main Warehouse")


@pytest.fixture
def warehouse_b(tenant_b) -> Warehouse:
    return make_warehouse(tenant_b.company, "MAIN", name="Globex Main")
