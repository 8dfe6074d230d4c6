"""Fixtures of the security tests: two companies with everything a company can own, the
text of each marked so that a response can be searched for a leak."""

from __future__ import annotations

import pytest

from tests.factories import Shop, stocked_shop


@pytest.fixture
def shop_a(tenant_a) -> Shop:
    # The kitchen's threshold is high, so the low-stock report lists the mug with its supplier.
    return stocked_shop(tenant_a, "ACME", kind_threshold=500, history=True)


@pytest.fixture
def shop_b(tenant_b) -> Shop:
    return stocked_shop(tenant_b, "SECRETB", kind_threshold=500, history=True)
