"""The OpenAPI schema says what the server does: JSON request bodies, update bodies without
the fields fixed once created, and the exact constraints of the Idempotency-Key header and
of the cursor parameter."""

from __future__ import annotations

import functools
import json
import re
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from stockflow.api.idempotency import HEADER, idempotency_key
from stockflow.catalog import services as catalog
from stockflow.inventory import catalog_stock
from tests.factories import assert_error

METHODS = {"get", "post", "put", "patch", "delete"}


@functools.cache
def spec() -> dict:
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))


def operations():
    for path, item in spec()["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def component(ref: str) -> dict:
    return spec()["components"]["schemas"][ref.rsplit("/", 1)[1]]


def body_schema(path: str, method: str) -> dict:
    return component(
        spec()["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"][
            "$ref"
        ]
    )


def test_every_request_body_is_json_only_but_the_import_upload():
    bodies = {
        f"{method.upper()} {path}": sorted(operation["requestBody"]["content"])
        for path, method, operation in operations()
        if "requestBody" in operation
    }
    assert len(bodies) > 20
    assert {name: kinds for name, kinds in bodies.items() if kinds != ["application/json"]} == {
        "POST /api/imports/": ["multipart/form-data"]
    }


# (collection path, fields chosen at creation and fixed afterwards)
FIXED = [
    ("/api/warehouses/", {"company_id"}),
    ("/api/product-types/", {"company_id"}),
    ("/api/suppliers/", {"company_id"}),
    ("/api/product-suppliers/", {"product_id", "supplier_id"}),
    ("/api/bundle-components/", {"bundle_id", "component_id"}),
]


@pytest.mark.parametrize(("collection", "fixed"), FIXED)
def test_update_bodies_leave_out_the_fields_fixed_once_created(collection, fixed):
    create = body_schema(collection, "post")
    assert fixed <= set(create["properties"]) and fixed <= set(create.get("required", []))
    for method in ("put", "patch"):
        update = body_schema(f"{collection}{{id}}/", method)
        assert not fixed & set(update["properties"]), (method, update["properties"])
        assert set(update["properties"]) == set(create["properties"]) - fixed
        for name in fixed:
            assert f"`{name}`" in update["description"]


@pytest.mark.django_db
def test_a_fixed_field_sent_on_update_with_another_value_is_400(tenant_a, tenant_b):
    warehouse = catalog.create_warehouse(company=tenant_a.company, name="Main", code="MAIN")
    url = f"/api/warehouses/{warehouse.pk}"
    same = tenant_a.admin.patch(url, {"company_id": tenant_a.company.pk, "name": "Back"})
    assert same.status_code == 200, same.content
    error = assert_error(
        tenant_a.admin.patch(url, {"company_id": tenant_b.company.pk}), 400, "validation_error"
    )
    assert error["fields"] == {"company_id": ["Cannot be changed once created."]}


# --- Idempotency-Key ------------------------------------------------------------------------


def idempotency_parameters() -> list[dict]:
    found = [
        parameter
        for path, method, operation in operations()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header" and parameter["name"] == HEADER
    ]
    return found


def test_the_idempotency_key_is_documented_wherever_it_is_read():
    documented = {
        f"{method.upper()} {path}"
        for path, method, operation in operations()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == HEADER
    }
    assert documented == {
        "POST /api/products/",
        "POST /api/sales/",
        "POST /api/stock/receipts/",
        "POST /api/stock/adjustments/",
        "POST /api/stock/transfers/",
        "POST /api/purchase-orders/{id}/receipts/",
        "POST /api/companies/{company_id}/purchase-orders/from-alerts/",
    }
    schemas = {json.dumps(p["schema"], sort_keys=True) for p in idempotency_parameters()}
    assert len(schemas) == 1


def server_accepts_key(value: str) -> bool:
    try:
        idempotency_key(SimpleNamespace(headers={HEADER: value}))
    except ValidationError:
        return False
    return True


def schema_accepts_key(schema: dict, value: str) -> bool:
    # HTTP removes spaces and tabs around a field value: the schema describes what is left.
    value = value.strip(" \t")
    return (
        schema["minLength"] <= len(value) <= schema["maxLength"]
        and re.fullmatch(schema["pattern"], value) is not None
    )


@hypothesis_settings(
    max_examples=400, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
@given(
    value=st.one_of(
        st.text(st.characters(min_codepoint=0, max_codepoint=0xFF), max_size=20),
        st.text(st.sampled_from("ab \t\x7f\x85\xa0é"), max_size=6),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=250, max_size=260),
    )
)
@example(value="a" * 255)
@example(value="a" * 256)
@example(value=" a ")
@example(value="a b")
@example(value="")
@example(value="\x85a")
def test_a_key_matches_the_schema_iff_the_server_accepts_it(value):
    schema = idempotency_parameters()[0]["schema"]
    assert schema_accepts_key(schema, value) == server_accepts_key(value), repr(value)


# --- cursors --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cursor_from_a_next_link_matches_its_pattern_and_anything_else_is_400(tenant_a):
    warehouse = catalog.create_warehouse(company=tenant_a.company, name="Main", code="MAIN")
    for n in range(3):
        catalog_stock.create_product(
            company_id=tenant_a.company.pk,
            name="Mug",
            sku=f"MUG-{n}",
            price=Decimal("1.00"),
            warehouse=warehouse,
            initial_quantity=5,
        )
    parameter = next(
        p for p in spec()["paths"]["/api/ledger/"]["get"]["parameters"] if p["name"] == "cursor"
    )
    assert "next" in parameter["description"]

    page = tenant_a.viewer.get("/api/ledger?page_size=1").json()
    cursor = parse_qs(urlsplit(page["next"]).query)["cursor"][0]
    assert re.fullmatch(parameter["schema"]["pattern"], cursor)
    assert tenant_a.viewer.get("/api/ledger", {"cursor": cursor, "page_size": 1}).status_code == 200

    for bad in ["not a cursor", "cD0x*", "%%%"]:
        assert not re.fullmatch(parameter["schema"]["pattern"], bad)
        error = assert_error(
            tenant_a.viewer.get("/api/ledger", {"cursor": bad}), 400, "validation_error"
        )
        assert set(error["fields"]) == {"cursor"}
