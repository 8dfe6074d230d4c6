"""Warehouses and product types."""

from __future__ import annotations

import pytest

from stockflow.catalog.models import ProductType, Warehouse
from stockflow.inventory.models import StockLevel
from tests.factories import (
    WAREHOUSE_DELETE_BUDGET,
    catalog_state,
    make_product,
    make_product_type,
    make_warehouse,
    past_sale,
    refused,
)

WAREHOUSES = "/api/warehouses"
TYPES = "/api/product-types"


# --- warehouses -------------------------------------------------------------------------------


def test_create_warehouse(tenant_a):
    payload = {
        "company_id": tenant_a.company.pk,
        "name": "Main Warehouse",
        "code": "MAIN",
        "address": "1 Dock Road",
    }
    response = tenant_a.admin.post(WAREHOUSES, payload, format="json")
    assert response.status_code == 201, response.content
    warehouse = Warehouse.objects.get()
    assert response.json() == {
        "id": warehouse.pk,
        "company_id": tenant_a.company.pk,
        "name": "Main Warehouse",
        "code": "MAIN",
        "address": "1 Dock Road",
        "is_active": True,
        "created_at": response.json()["created_at"],
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("code", ""),
        ("code", "has space"),
        ("code", "MA\nIN"),
        ("code", "-MAIN"),
        ("code", "C" * 33),
        ("is_active", "perhaps"),
        ("company_id", None),
        ("company_id", "acme"),
    ],
)
def test_invalid_warehouse_is_400(tenant_a, field, value):
    payload = {"company_id": tenant_a.company.pk, "name": "Main", "code": "MAIN", field: value}
    before = catalog_state()
    error = refused(
        tenant_a.admin.post(WAREHOUSES, payload, format="json"), 400, "validation_error", before
    )
    assert set(error["fields"]) == {field}


def test_missing_company_id_is_400(tenant_a):
    before = catalog_state()
    response = tenant_a.admin.post(WAREHOUSES, {"name": "Main", "code": "MAIN"}, format="json")
    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {"company_id"}


@pytest.mark.parametrize("company", ["other", "unknown"])
def test_warehouse_in_another_or_unknown_company_is_404(tenant_a, tenant_b, company):
    company_id = tenant_b.company.pk if company == "other" else 10**6
    before = catalog_state()
    payload = {"company_id": company_id, "name": "Main", "code": "MAIN"}
    refused(tenant_a.admin.post(WAREHOUSES, payload, format="json"), 404, "not_found", before)


def test_duplicate_code_in_a_company_is_409(tenant_a, tenant_b):
    make_warehouse(tenant_a.company, "MAIN")
    make_warehouse(tenant_b.company, "EAST")
    before = catalog_state()
    payload = {"company_id": tenant_a.company.pk, "name": "Other", "code": "MAIN"}
    error = refused(
        tenant_a.admin.post(WAREHOUSES, payload, format="json"), 409, "conflict", before
    )
    assert error["field"] == "code"
    # The same code in another company is fine.
    payload["code"] = "EAST"
    assert tenant_a.admin.post(WAREHOUSES, payload, format="json").status_code == 201


def test_patch_code_to_a_taken_one_is_409(tenant_a):
    make_warehouse(tenant_a.company, "MAIN")
    east = make_warehouse(tenant_a.company, "EAST")
    before = catalog_state()
    response = tenant_a.admin.patch(f"{WAREHOUSES}/{east.pk}", {"code": "MAIN"}, format="json")
    refused(response, 409, "conflict", before)


def test_company_cannot_be_changed(tenant_a, tenant_b):
    warehouse = make_warehouse(tenant_a.company)
    before = catalog_state()
    response = tenant_a.admin.patch(
        f"{WAREHOUSES}/{warehouse.pk}", {"company_id": tenant_b.company.pk}, format="json"
    )
    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {"company_id"}
    same = tenant_a.admin.patch(
        f"{WAREHOUSES}/{warehouse.pk}", {"company_id": tenant_a.company.pk, "name": "N"}, "json"
    )
    assert same.status_code == 200 and same.json()["name"] == "N"


def test_warehouse_list_scoped_filtered_ordered(tenant_a, tenant_b):
    main = make_warehouse(tenant_a.company, "MAIN", name="Main")
    east = make_warehouse(tenant_a.company, "EAST", name="East", is_active=False)
    make_warehouse(tenant_b.company, "THEIRS")

    listed = tenant_a.viewer.get(WAREHOUSES, {"ordering": "code"}, max_queries=5).json()
    assert [w["id"] for w in listed["results"]] == [east.pk, main.pk]
    inactive = tenant_a.viewer.get(WAREHOUSES, {"is_active": "false"}).json()
    assert [w["id"] for w in inactive["results"]] == [east.pk]
    by_company = tenant_a.viewer.get(WAREHOUSES, {"company_id": tenant_b.company.pk}).json()
    assert by_company["results"] == []


def test_warehouse_with_stock_history_cannot_be_deleted(tenant_a):
    warehouse = make_warehouse(tenant_a.company)
    make_product(tenant_a.company, warehouse=warehouse, quantity=3)
    before = catalog_state()
    error = refused(
        tenant_a.admin.delete(f"{WAREHOUSES}/{warehouse.pk}"), 409, "has_history", before
    )
    assert "is_active=false" in error["message"]


def test_warehouse_with_sales_cannot_be_deleted(tenant_a):
    warehouse = make_warehouse(tenant_a.company)
    product = make_product(tenant_a.company, warehouse=warehouse, quantity=0)
    past_sale(product, warehouse)
    before = catalog_state()
    refused(tenant_a.admin.delete(f"{WAREHOUSES}/{warehouse.pk}"), 409, "has_history", before)


def test_warehouse_without_history_is_deleted_with_its_empty_levels(tenant_a):
    warehouse = make_warehouse(tenant_a.company)
    product = make_product(tenant_a.company, warehouse=warehouse, quantity=0)
    assert StockLevel.objects.filter(warehouse=warehouse).exists()

    deleted = tenant_a.admin.delete(
        f"{WAREHOUSES}/{warehouse.pk}", max_queries=WAREHOUSE_DELETE_BUDGET
    )
    assert deleted.status_code == 204

    assert not Warehouse.objects.filter(pk=warehouse.pk).exists()
    assert not StockLevel.objects.filter(warehouse_id=warehouse.pk).exists()
    product.refresh_from_db()  # the product stays


def test_deactivate_warehouse(tenant_a):
    warehouse = make_warehouse(tenant_a.company)
    make_product(tenant_a.company, warehouse=warehouse, quantity=3)
    response = tenant_a.admin.patch(
        f"{WAREHOUSES}/{warehouse.pk}", {"is_active": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["is_active"] is False


# --- product types ----------------------------------------------------------------------------


def test_create_product_type(tenant_a):
    payload = {"company_id": tenant_a.company.pk, "name": "Mugs", "low_stock_threshold": 20}
    response = tenant_a.admin.post(TYPES, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["low_stock_threshold"] == 20
    assert ProductType.objects.get().name == "Mugs"


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ""), ("name", "n" * 121), ("low_stock_threshold", -1), ("low_stock_threshold", 1.5)],
)
def test_invalid_product_type_is_400(tenant_a, field, value):
    payload = {"company_id": tenant_a.company.pk, "name": "Mugs", field: value}
    before = catalog_state()
    error = refused(
        tenant_a.admin.post(TYPES, payload, format="json"), 400, "validation_error", before
    )
    assert set(error["fields"]) == {field}


def test_product_type_name_is_unique_in_a_company_in_any_case(tenant_a):
    make_product_type(tenant_a.company, "Mugs")
    before = catalog_state()
    payload = {"company_id": tenant_a.company.pk, "name": "MUGS"}
    refused(tenant_a.admin.post(TYPES, payload, format="json"), 409, "conflict", before)


def test_type_threshold_change_shows_on_products(tenant_a):
    kind = make_product_type(tenant_a.company, "Mugs", low_stock_threshold=5)
    product = make_product(tenant_a.company, product_type=kind)
    tenant_a.admin.patch(f"{TYPES}/{kind.pk}", {"low_stock_threshold": 9}, format="json")
    shown = tenant_a.viewer.get(f"/api/products/{product.pk}").json()
    assert shown["effective_threshold"] == 9


def test_product_type_in_use_cannot_be_deleted(tenant_a):
    kind = make_product_type(tenant_a.company)
    make_product(tenant_a.company, product_type=kind)
    before = catalog_state()
    refused(tenant_a.admin.delete(f"{TYPES}/{kind.pk}"), 409, "conflict", before)


def test_unused_product_type_is_deleted(tenant_a):
    kind = make_product_type(tenant_a.company)
    assert tenant_a.admin.delete(f"{TYPES}/{kind.pk}").status_code == 204
    assert not ProductType.objects.exists()


def test_product_type_list(tenant_a, tenant_b):
    mugs = make_product_type(tenant_a.company, "Mugs")
    make_product_type(tenant_a.company, "Bags")
    make_product_type(tenant_b.company, "Mugs")
    listed = tenant_a.viewer.get(TYPES, {"name": "mug"}, max_queries=5).json()
    assert [t["id"] for t in listed["results"]] == [mugs.pk]
