"""Fixtures of the inventory tests: each company's standard stock (``stocked_shop``)."""

from __future__ import annotations

import pytest

from tests.factories import Shop, stocked_shop


@pytest.fixture
def shop(tenant_a) -> Shop:
    return stocked_shop(tenant_a)


@pytest.fixture
def other_shop(tenant_b) -> Shop:
    return stocked_shop(tenant_b, "B")
