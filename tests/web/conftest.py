"""Fixtures of the web tests: each company's ``mug_shop`` and a logged-in session per role."""

from __future__ import annotations

import pytest
from django.test import Client

from stockflow.tenancy.models import Role
from tests.factories import Shop, Tenant, mug_shop
from tests.factories.clients import logged_in


@pytest.fixture
def shop(tenant_a: Tenant) -> Shop:
    return mug_shop(tenant_a, sales_days=5)


@pytest.fixture
def other_shop(tenant_b: Tenant) -> Shop:
    return mug_shop(tenant_b)


@pytest.fixture
def pages(tenant_a: Tenant) -> dict[str, Client]:
    """A logged-in browser session per role of company A."""
    return {role: logged_in(tenant_a.users[role]) for role in Role}
