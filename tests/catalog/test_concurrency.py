"""Real concurrent requests on PostgreSQL: threads, each with its own connection, started
together by a barrier. No request may fail with a 500, whatever the interleaving."""

from __future__ import annotations

import time
from collections import Counter
from functools import partial

import pytest

from stockflow.catalog import selectors
from stockflow.catalog.models import BundleComponent, Product, ProductSupplier, Warehouse
from stockflow.inventory.models import LedgerEntry, StockLevel
from stockflow.tenancy.models import Role
from tests.factories import (
    client_for,
    make_bundle,
    make_product,
    make_supplier,
    make_warehouse,
    run_concurrently,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def admin_clients(tenant, count: int) -> list:
    """One API client (and token) per thread: a test client is not shared between threads."""
    return [client_for(tenant.users[Role.ADMIN]) for _ in range(count)]


def test_same_new_sku_posted_at_once(tenant_a):
    warehouse = make_warehouse(tenant_a.company, "MAIN")
    clients = admin_clients(tenant_a, 12)
    body = {
        "name": "Widget A",
        "sku": "RACE-001",
        "price": "19.99",
        "warehouse_id": warehouse.pk,
        "initial_quantity": 5,
    }

    responses = run_concurrently(
        [lambda c=client: c.post("/api/products", body, format="json") for client in clients]
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 11}, statuses
    for response in responses:
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "sku_conflict"
    assert Product.objects.filter(sku="RACE-001").count() == 1
    assert StockLevel.objects.count() == 1
    assert LedgerEntry.objects.count() == 1


def test_two_edits_cannot_make_a_cycle_together(tenant_a, monkeypatch):
    # Widen the window between reading the bundle graph and inserting the new line, so that
    # without the company lock both edits would pass the cycle check.
    read_graph = selectors.company_bundle_graph

    def slow_read_graph(company_id):
        graph = read_graph(company_id)
        time.sleep(0.3)
        return graph

    monkeypatch.setattr(selectors, "company_bundle_graph", slow_read_graph)
    clients = admin_clients(tenant_a, 2)
    for round_ in range(3):
        a = make_bundle(tenant_a.company, f"A-{round_}")
        b = make_bundle(tenant_a.company, f"B-{round_}")

        edges = [(a, b), (b, a)]
        responses = run_concurrently(
            [
                partial(
                    client.post,
                    "/api/bundle-components",
                    {"bundle_id": bundle.pk, "component_id": component.pk, "quantity": 1},
                    format="json",
                )
                for client, (bundle, component) in zip(clients, edges, strict=True)
            ]
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 400], statuses
        assert BundleComponent.objects.filter(bundle__in=[a, b]).count() == 1


def test_links_made_primary_at_once_leave_one_primary(tenant_a):
    product = make_product(tenant_a.company)
    suppliers = [make_supplier(tenant_a.company) for _ in range(10)]
    clients = admin_clients(tenant_a, 10)

    created = run_concurrently(
        [
            lambda c=client, s=supplier: c.post(
                "/api/product-suppliers",
                {"product_id": product.pk, "supplier_id": s.pk, "is_primary": True},
                format="json",
            )
            for client, supplier in zip(clients, suppliers, strict=True)
        ]
    )
    assert [r.status_code for r in created] == [201] * 10
    assert ProductSupplier.objects.filter(product=product, is_primary=True).count() == 1

    switched = run_concurrently(
        [
            lambda c=client, r=response: c.patch(
                f"/api/product-suppliers/{r.json()['id']}", {"is_primary": True}, format="json"
            )
            for client, response in zip(clients, created, strict=True)
        ]
    )
    assert [r.status_code for r in switched] == [200] * 10
    assert ProductSupplier.objects.filter(product=product, is_primary=True).count() == 1


def test_product_created_while_its_warehouse_is_deleted(tenant_a):
    clients = admin_clients(tenant_a, 2)
    for round_ in range(5):
        warehouse = make_warehouse(tenant_a.company, f"W{round_}")
        body = {
            "name": "Widget",
            "sku": f"DEL-{round_}",
            "price": "1.00",
            "warehouse_id": warehouse.pk,
            "initial_quantity": 3,
        }

        created, deleted = run_concurrently(
            [
                lambda body=body: clients[0].post("/api/products", body, format="json"),
                lambda w=warehouse: clients[1].delete(f"/api/warehouses/{w.pk}"),
            ]
        )

        outcome = (created.status_code, deleted.status_code)
        # Either the product came first and the warehouse now has history, or the
        # warehouse was gone before the product could use it. Never a 500.
        assert outcome in {(201, 409), (404, 204)}, (outcome, created.content, deleted.content)
        if outcome == (201, 409):
            assert Warehouse.objects.filter(pk=warehouse.pk).exists()
            assert StockLevel.objects.get(warehouse=warehouse).quantity == 3
        else:
            assert not Product.objects.filter(sku=body["sku"]).exists()
