"""Fixtures of the import and export tests: two companies with MAIN and BACK warehouses."""

from __future__ import annotations

import pytest

from tests.factories.imports import import_shop
from tests.factories.shops import Shop


@pytest.fixture
def shop(db) -> Shop:
    return import_shop()


@pytest.fixture
def other_shop(db) -> Shop:
    return import_shop()
