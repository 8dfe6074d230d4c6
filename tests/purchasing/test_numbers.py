"""Purchase order numbers: PO-000001, PO-000002... per company, unique under concurrency."""

from __future__ import annotations

import pytest

from stockflow.purchasing.models import PurchaseOrder
from tests.factories import client_for, run_concurrently
from tests.factories.purchasing import ORDERS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_get_distinct_consecutive_numbers(tenant_a, shop):
    warehouse, supplier, mug = shop.warehouse(), shop.supplier(), shop.product("Mug")
    shop.supply(mug, supplier)
    body = {
        "warehouse_id": warehouse.pk,
        "supplier_id": supplier.pk,
        "lines": [{"product_id": mug.pk, "quantity": 1}],
    }
    clients = [client_for(tenant_a.users["admin"]) for _ in range(8)]

    def post(client):
        return lambda: client.post(ORDERS, body, format="json").status_code

    assert run_concurrently([post(client) for client in clients]) == [201] * 8
    numbers = sorted(PurchaseOrder.objects.values_list("number", flat=True))
    assert numbers == [f"PO-{n:06d}" for n in range(1, 9)]


@pytest.mark.django_db
def test_a_failed_creation_gives_its_number_back(tenant_a, shop):
    warehouse, supplier, mug = shop.warehouse(), shop.supplier(), shop.product("Mug")
    bad = {
        "warehouse_id": warehouse.pk,
        "supplier_id": supplier.pk,
        "lines": [{"product_id": shop.product("Kit", bundle=True).pk, "quantity": 1}],
    }
    assert tenant_a.admin.post(ORDERS, bad, format="json").status_code == 400
    good = {**bad, "lines": [{"product_id": mug.pk, "quantity": 1}]}
    assert tenant_a.admin.post(ORDERS, good, format="json").json()["number"] == "PO-000001"
