"""A request that finds the database unavailable is a 503 database_unavailable with
Retry-After, in the one error shape, never a 500."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

from stockflow.dburl import parse_database_url
from tests.factories import assert_error
from tests.security.conftest import build_shop

pytestmark = pytest.mark.django_db


def test_a_sale_while_the_database_is_down_is_503_with_retry_after(tenant_a, monkeypatch):
    shop_a = build_shop(tenant_a, "ACME")

    def refuse(self, *args, **kwargs):
        raise OperationalError("connection failed: Connection refused")

    client = shop_a.tenant.staff
    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", refuse)
    response = client.post(
        "/api/sales",
        {"product_id": shop_a.mug.pk, "warehouse_id": shop_a.main.pk, "quantity": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="outage-1",
    )
    error = assert_error(response, 503, "database_unavailable")
    assert "Connection refused" not in error["message"]
    assert int(response["Retry-After"]) >= 1


def test_the_pool_is_sized_and_bounded():
    config = parse_database_url("postgres://u:p@db:5432/stock", pool_max_size=1, pool_timeout=3)
    pool = config["OPTIONS"]["pool"]
    assert (pool["min_size"], pool["max_size"], pool["timeout"]) == (1, 1, 3)
    assert config["CONN_HEALTH_CHECKS"]  # Django then checks each connection taken
    assert config["OPTIONS"]["connect_timeout"] == "2"
    given = parse_database_url("postgres://db/stock?connect_timeout=5")
    assert given["OPTIONS"]["connect_timeout"] == "5"
