"""A client generated from the served schema (openapi-python-client, offline, in a temporary
directory) imports and works against a live server: token, warehouses, a product, sales,
low-stock alerts, an update body without its fixed fields, and a typed 409.

The generator runs in a subprocess; the server is pytest-django's ``live_server`` on
127.0.0.1, on whichever database the suite runs (a few seconds on either)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from stockflow.tenancy.models import Role
from tests.factories import PASSWORD, make_tenant

PACKAGE = "stockflow_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture
def generated_client(live_server, tmp_path):
    """The generated package, imported; removed from ``sys.modules`` afterwards."""
    schema = httpx.get(f"{live_server.url}/api/schema/?format=json", timeout=30)
    assert schema.status_code == 200
    (tmp_path / "schema.json").write_text(schema.text)
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")  # no formatter run
    started = time.monotonic()
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            "schema.json",
            "--config",
            "config.yaml",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The generator warns about every schema construct it cannot turn into code.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert time.monotonic() - started < 30
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def endpoint(tag: str, operation: str):
    return module(f"api.{tag}.{operation}")


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_runs_a_journey_against_a_live_server(live_server, generated_client):
    tenant = make_tenant("Journey")
    admin = tenant.users[Role.ADMIN]
    models = module("models")
    anonymous = generated_client.Client(base_url=live_server.url)

    issued = endpoint("auth", "auth_token_create").sync(
        client=anonymous,
        body=models.ObtainTokenRequest(username=admin.username, password=PASSWORD, name="cli"),
    )
    assert isinstance(issued, models.IssuedToken), issued
    client = generated_client.AuthenticatedClient(base_url=live_server.url, token=issued.token)

    created = endpoint("warehouses", "warehouses_create").sync(
        client=client,
        body=models.WarehouseRequest(company_id=tenant.company.pk, name="Main", code="MAIN"),
    )
    assert isinstance(created, models.Warehouse), created
    renamed = endpoint("warehouses", "warehouses_partial_update").sync(
        created.id, client=client, body=models.PatchedWarehouseUpdateRequest(name="Main hall")
    )
    assert (renamed.name, renamed.company_id) == ("Main hall", tenant.company.pk)
    listed = endpoint("warehouses", "warehouses_list").sync(client=client)
    assert isinstance(listed, models.PaginatedWarehouseList)
    assert [(w.id, w.code) for w in listed.results] == [(created.id, "MAIN")]

    create_product = endpoint("products", "products_create")
    body = models.ProductCreateRequest(
        name="Travel Mug",
        sku="TRAVEL-001",
        price="19.99",
        warehouse_id=created.id,
        initial_quantity=6,
        low_stock_threshold=10,
    )
    product = create_product.sync(client=client, body=body, idempotency_key="mug-1")
    assert isinstance(product, models.Product), product
    assert (product.price, product.stock[0].quantity) == ("19.99", 6)

    sales = endpoint("sales", "sales_create")
    sold = sales.sync(
        client=client,
        body=models.SaleInputRequest(product_id=product.id, warehouse_id=created.id, quantity=2),
    )
    discounted = sales.sync(
        client=client,
        body=models.SaleInputRequest(
            product_id=product.id, warehouse_id=created.id, quantity=1, unit_price=17.5
        ),
        idempotency_key="sale-2",
    )
    assert isinstance(sold, models.SaleResult) and isinstance(discounted, models.SaleResult)
    assert (sold.unit_price, discounted.unit_price) == ("19.99", "17.50")
    assert discounted.ledger_entries[0].quantity_after == 3

    report = endpoint("alerts", "low_stock_alerts").sync(tenant.company.pk, client=client)
    assert isinstance(report, models.LowStockReport), report
    assert [(a.sku, a.current_stock, a.threshold, a.units_sold) for a in report.alerts] == [
        ("TRAVEL-001", 3, 10, 3)
    ]

    duplicate = create_product.sync_detailed(client=client, body=body)
    assert duplicate.status_code == 409
    assert isinstance(duplicate.parsed, models.Error)
    assert duplicate.parsed.error.code == "sku_conflict"
    assert json.loads(duplicate.content)["error"]["code"] == "sku_conflict"
