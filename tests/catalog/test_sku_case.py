"""SKUs are case-sensitive: `ABC-1` and `abc-1` are two products, and the `sku` filter matches
exactly (README, schema description of `sku`)."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from stockflow.catalog import services as catalog
from stockflow.catalog.models import Product

pytestmark = pytest.mark.django_db


def create(client, warehouse, sku: str):
    body = {
        "name": "Widget",
        "sku": sku,
        "price": "1.00",
        "warehouse_id": warehouse.pk,
        "initial_quantity": 1,
    }
    return client.post("/api/products", body)


def test_skus_differing_only_in_case_are_two_products(tenant_a):
    warehouse = catalog.create_warehouse(company=tenant_a.company, name="Main", code="MAIN")

    upper = create(tenant_a.admin, warehouse, "ABC-1")
    lower = create(tenant_a.admin, warehouse, "abc-1")
    again = create(tenant_a.admin, warehouse, "ABC-1")

    assert (upper.status_code, lower.status_code) == (201, 201), lower.content
    assert again.status_code == 409 and again.json()["error"]["code"] == "sku_conflict"
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["ABC-1", "abc-1"]
    found = tenant_a.viewer.get("/api/products", {"sku": "abc-1"}).json()["results"]
    assert [product["sku"] for product in found] == ["abc-1"]


def test_the_schema_says_skus_are_case_sensitive():
    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    for name in ("Product", "ProductCreateRequest", "PatchedProductRequest"):
        assert "case-sensitive" in schemas[name]["properties"]["sku"]["description"]
