"""Fixtures of the low-stock report tests: empty shops filled row by row, and the report."""

from __future__ import annotations

import pytest

from tests.alerts.report import report_url
from tests.factories import Shop, Tenant


@pytest.fixture
def shop(tenant_a: Tenant) -> Shop:
    return Shop(tenant_a)


@pytest.fixture
def other_shop(tenant_b: Tenant) -> Shop:
    return Shop(tenant_b)


@pytest.fixture
def fetch_report(tenant_a: Tenant):
    """GET the report of tenant A as its viewer; returns the JSON body of a 200."""

    def fetch(client=None, company_id: int | None = None, **params) -> dict:
        client = client or tenant_a.viewer
        response = client.get(report_url(company_id or tenant_a.company.pk), params)
        assert response.status_code == 200, response.content[:500]
        return response.json()

    return fetch
