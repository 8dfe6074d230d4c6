"""Who may read the low-stock report, and how the route answers."""

from __future__ import annotations

import pytest

from stockflow.tenancy.models import Role
from tests.alerts.report import report_url
from tests.factories import Shop, assert_error


@pytest.fixture
def one_alert(shop: Shop):
    warehouse = shop.warehouse()
    product = shop.product(threshold=10)
    shop.stock(product, warehouse, 1)
    shop.sale(product, warehouse, 3)
    return product, warehouse


@pytest.mark.parametrize("role", list(Role))
def test_every_member_may_read(tenant_a, one_alert, role):
    response = tenant_a.clients[role].get(report_url(tenant_a.company.pk))

    assert response.status_code == 200, response.content
    assert response.json()["total_alerts"] == 1


def test_another_company_user_gets_404_like_a_missing_company(tenant_a, tenant_b, one_alert):
    foreign = tenant_b.owner.get(report_url(tenant_a.company.pk))
    missing = tenant_b.owner.get(report_url(tenant_a.company.pk + 10_000))
    huge = tenant_b.owner.get(report_url(10**30))

    assert assert_error(foreign, 404, "not_found") == assert_error(missing, 404, "not_found")
    assert_error(huge, 404, "not_found")


def test_another_company_user_gets_404_before_parameters_are_checked(tenant_a, tenant_b):
    response = tenant_b.owner.get(report_url(tenant_a.company.pk), {"days": "0"})

    assert_error(response, 404, "not_found")


def test_anonymous_is_401(anon, tenant_a):
    assert_error(anon.get(report_url(tenant_a.company.pk)), 401, "not_authenticated")


def test_trailing_slash_is_the_same_route(tenant_a, one_alert):
    response = tenant_a.viewer.get(report_url(tenant_a.company.pk) + "/")

    assert response.status_code == 200
    assert response.json()["total_alerts"] == 1


def test_read_only(tenant_a):
    response = tenant_a.owner.post(report_url(tenant_a.company.pk), {}, format="json")

    assert_error(response, 405, "method_not_allowed")


def test_schema_documents_the_report(tenant_a):
    response = tenant_a.viewer.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    operation = next(
        item["get"]
        for path, item in schema["paths"].items()
        if path.startswith("/api/companies/{company_id}/alerts/low-stock")
    )
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {
        "company_id",
        "days",
        "cover_days",
        "warehouse_id",
        "product_type_id",
        "limit",
        "offset",
    }
    assert parameters["days"]["schema"]["minimum"] == 1
    assert parameters["days"]["schema"]["maximum"] == 365
    assert parameters["limit"]["schema"]["maximum"] == 500
    report = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    components = schema["components"]["schemas"]
    report_fields = components[report.rsplit("/", 1)[1]]["properties"]
    assert {"alerts", "total_alerts", "window_days", "cover_days"} <= set(report_fields)
    alert_ref = report_fields["alerts"]["items"]["$ref"].rsplit("/", 1)[1]
    assert set(components[alert_ref]["properties"]) >= {
        "product_id",
        "product_name",
        "sku",
        "warehouse_id",
        "warehouse_name",
        "current_stock",
        "threshold",
        "days_until_stockout",
        "supplier",
        "avg_daily_sales",
        "lead_time_days",
        "suggested_reorder_quantity",
    }
