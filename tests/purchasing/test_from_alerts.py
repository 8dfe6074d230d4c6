"""Draft orders from the low-stock report: grouped by (supplier, warehouse), the suggested
quantities, the link's cost; skipped alerts with their reason; nothing twice."""

from __future__ import annotations

import pytest

from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderLine
from tests.factories import PURCHASE_WRITE_BUDGET, assert_error, query_budget

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _purchase_write_budget():
    with query_budget(PURCHASE_WRITE_BUDGET):
        yield


def url(company_id: int) -> str:
    return f"/api/companies/{company_id}/purchase-orders/from-alerts"


@pytest.fixture
def alerting(shop):
    """Two warehouses; three low products from one supplier, one from another, one from none,
    one whose stock is covered by an order placed already."""
    north, south = shop.warehouse("North"), shop.warehouse("South")
    acme, globex = shop.supplier("Acme"), shop.supplier("Globex")

    def low(name, supplier, warehouse, *, stock=2, sold=30, cost="1.50"):
        product = shop.product(name, threshold=10)
        if supplier is not None:
            shop.supply(product, supplier, lead_time_days=0, unit_cost=cost, primary=True)
        shop.stock(product, warehouse, stock)
        shop.sale(product, warehouse, sold)
        return product

    products = {
        "a": low("A", acme, north),
        "b": low("B", acme, north, cost="0.0125"),
        "c": low("C", acme, south),
        "d": low("D", globex, north),
        "e": low("E", None, north),
    }
    return north, south, acme, globex, products


def test_drafts_grouped_by_supplier_and_warehouse(tenant_a, alerting):
    north, south, acme, globex, products = alerting
    response = tenant_a.admin.post(url(tenant_a.company.pk), {"cover_days": 10}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    groups = {
        (order["supplier"]["id"], order["warehouse"]["id"]): order for order in body["orders"]
    }
    assert set(groups) == {(acme.pk, north.pk), (acme.pk, south.pk), (globex.pk, north.pk)}
    assert all(order["status"] == "draft" for order in body["orders"])
    lines = {line["product_id"]: line for order in body["orders"] for line in order["lines"]}
    # 1 a day, threshold 10, 10 days of cover, lead 0, 2 in stock: 18
    assert {pid: line["quantity_ordered"] for pid, line in lines.items()} == {
        products[name].pk: 18 for name in "abcd"
    }
    assert lines[products["b"].pk]["unit_cost"] == "0.0125"
    assert body["skipped"] == [
        {"product_id": products["e"].pk, "warehouse_id": north.pk, "reason": "no_supplier"}
    ]


def test_a_second_call_creates_nothing(tenant_a, alerting):
    _north, *_, _products = alerting
    tenant_a.admin.post(url(tenant_a.company.pk), {}, format="json")
    count = PurchaseOrder.objects.count()
    again = tenant_a.admin.post(url(tenant_a.company.pk), {}, format="json").json()
    assert again["orders"] == []
    assert {row["reason"] for row in again["skipped"]} == {"no_supplier", "nothing_to_order"}
    assert PurchaseOrder.objects.count() == count


def test_filters(tenant_a, alerting):
    _north, south, _acme, _globex, products = alerting
    body = tenant_a.admin.post(
        url(tenant_a.company.pk), {"warehouse_id": south.pk}, format="json"
    ).json()
    assert [order["warehouse"]["id"] for order in body["orders"]] == [south.pk]
    body = tenant_a.admin.post(
        url(tenant_a.company.pk), {"product_ids": [products["d"].pk]}, format="json"
    ).json()
    assert [line["product_id"] for order in body["orders"] for line in order["lines"]] == [
        products["d"].pk
    ]


def test_idempotency_key(tenant_a, alerting):
    headers = {"HTTP_IDEMPOTENCY_KEY": "morning-run"}
    first = tenant_a.admin.post(url(tenant_a.company.pk), {}, format="json", **headers)
    again = tenant_a.admin.post(url(tenant_a.company.pk), {}, format="json", **headers)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert PurchaseOrder.objects.count() == 3


def test_roles_and_bad_input(tenant_a, tenant_b, alerting):
    assert_error(
        tenant_a.staff.post(url(tenant_a.company.pk), {}, format="json"), 403, "permission_denied"
    )
    assert_error(tenant_a.admin.post(url(tenant_b.company.pk), {}, format="json"), 404, "not_found")
    for body, field in [
        ({"days": 0}, "days"),
        ({"cover_days": -1}, "cover_days"),
        ({"product_ids": ["x"]}, "product_ids"),
    ]:
        error = assert_error(
            tenant_a.admin.post(url(tenant_a.company.pk), body, format="json"),
            400,
            "validation_error",
        )
        assert field in error["fields"]
    assert not PurchaseOrderLine.objects.exists()
