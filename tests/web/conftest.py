from __future__ import annotations

import pytest
from django.test import Client

from stockflow.tenancy.models import Role
from tests.factories import Tenant
from tests.web.shop import Shop, build_shop


@pytest.fixture
def shop(tenant_a: Tenant) -> Shop:
    return build_shop(tenant_a.company, sales_days=5)


@pytest.fixture
def other_shop(tenant_b: Tenant) -> Shop:
    return build_shop(tenant_b.company)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pages(tenant_a: Tenant) -> dict[str, Client]:
    """A logged-in browser session per role of company A."""
    return {role: logged_in(tenant_a.users[role]) for role in Role}
