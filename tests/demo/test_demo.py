import io
import re

import pytest
from django.core.management import call_command

from stockflow.catalog.models import Product, Warehouse
from stockflow.inventory.models import LedgerEntry, Sale
from stockflow.tenancy.models import Company
from tests.factories import APIClient

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--port", "8123", stdout=out)
    return out.getvalue()


@pytest.mark.slow
def test_demo_loads_once_and_prints_a_working_token():
    output = run_demo()
    counts = (
        Company.objects.count(),
        Product.objects.count(),
        Sale.objects.count(),
        LedgerEntry.objects.count(),
    )
    assert counts[0] == 2
    assert 95 <= counts[1] <= 110
    assert Warehouse.objects.count() >= 4
    assert Product.objects.filter(is_bundle=True).count() >= 2
    assert counts[2] > 1000

    again = run_demo()
    assert (
        Company.objects.count(),
        Product.objects.count(),
        Sale.objects.count(),
        LedgerEntry.objects.count(),
    ) == counts
    assert "already loaded" in again

    token = re.search(r"Demo token: (\S+)", again).group(1)
    old_token = re.search(r"Demo token: (\S+)", output).group(1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    warehouses = client.get("/api/warehouses")
    assert warehouses.status_code == 200
    assert warehouses.json()["count"] == Warehouse.objects.count()
    company = Company.objects.order_by("id").first()
    alerts = client.get(f"/api/companies/{company.id}/alerts/low-stock").json()
    assert alerts["total_alerts"] > 0
    # The earlier demo token was replaced by the new one.
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {old_token}")
    assert client.get("/api/warehouses").status_code == 401

    call_command("verify_stock", stdout=io.StringIO())


def test_demo_has_purchase_orders_in_every_status():
    from stockflow.catalog.models import ProductSupplier
    from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderStatus

    run_demo()
    for company in Company.objects.all():
        statuses = set(
            PurchaseOrder.objects.filter(company=company).values_list("status", flat=True)
        )
        assert statuses == set(PurchaseOrderStatus.values), company
        assert ProductSupplier.objects.filter(company=company, observed_orders__gte=3).exists()
    call_command("verify_stock", stdout=io.StringIO())
