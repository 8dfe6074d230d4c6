"""POST /api/products (SPEC §3.1): one test per row of the fault table, and more.

Every refused request checks that the database is exactly as before."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

import pytest

from stockflow.catalog.models import Product
from stockflow.inventory.models import LedgerEntry, LedgerReason, ReferenceType, StockLevel
from stockflow.tenancy.models import Membership, Role
from tests.factories import (
    PRODUCT_WRITE_BUDGET,
    assert_error,
    catalog_state,
    client_for,
    make_product,
    make_product_type,
    make_user,
    make_warehouse,
    post_raw,
    put_stock,
    refused,
)

URL = "/api/products"


def body(warehouse, **overrides) -> dict:
    payload = {
        "name": "Widget A",
        "sku": "WID-001",
        "price": "19.99",
        "warehouse_id": warehouse.pk,
        "initial_quantity": 25,
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not ...}


def price_body(price_text: str, warehouse) -> str:
    """A body whose price is written exactly as given, to go through the real JSON parser."""
    return (
        f'{{"name": "Widget A", "sku": "WID-001", "price": {price_text}, '
        f'"warehouse_id": {warehouse.pk}, "initial_quantity": 1}}'
    )


# --- success ------------------------------------------------------------------------------


def test_created_with_stock_level_and_initial_ledger_entry(tenant_a, warehouse_a):
    response = tenant_a.admin.post(URL, body(warehouse_a), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    product = Product.objects.get()
    assert data == {
        "id": product.pk,
        "company_id": tenant_a.company.pk,
        "name": "Widget A",
        "sku": "WID-001",
        "description": "",
        "price": "19.99",
        "product_type_id": None,
        "low_stock_threshold": None,
        "effective_threshold": None,
        "is_bundle": False,
        "is_active": True,
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
        "stock": [{"warehouse_id": warehouse_a.pk, "quantity": 25}],
        "components": [],
    }
    level = StockLevel.objects.get()
    assert (level.product_id, level.warehouse_id, level.quantity) == (
        product.pk,
        warehouse_a.pk,
        25,
    )
    entry = LedgerEntry.objects.get()
    assert entry.stock_level_id == level.pk
    assert (entry.change, entry.quantity_after, entry.reason) == (25, 25, LedgerReason.INITIAL)
    assert (entry.reference_type, entry.reference_id) == (ReferenceType.PRODUCT, product.pk)
    assert entry.actor == tenant_a.users[Role.ADMIN]


def test_owner_may_create_too(tenant_a, warehouse_a):
    assert tenant_a.owner.post(URL, body(warehouse_a), format="json").status_code == 201


def test_optional_fields(tenant_a, warehouse_a):
    kind = make_product_type(tenant_a.company, "Mugs", low_stock_threshold=12)
    payload = body(
        warehouse_a, description="A fine mug", product_type_id=kind.pk, initial_quantity=0
    )
    response = tenant_a.admin.post(URL, payload, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["description"] == "A fine mug"
    assert data["product_type_id"] == kind.pk
    assert data["effective_threshold"] == 12
    assert data["stock"] == [{"warehouse_id": warehouse_a.pk, "quantity": 0}]
    # Zero initial stock: a stock level, and no ledger entry (a change of 0 is no change).
    assert StockLevel.objects.get().quantity == 0
    assert LedgerEntry.objects.count() == 0


def test_own_threshold_overrides_the_types(tenant_a, warehouse_a):
    kind = make_product_type(tenant_a.company, "Mugs", low_stock_threshold=12)
    payload = body(warehouse_a, product_type_id=kind.pk, low_stock_threshold=3)
    # Stocked above its own threshold: the creation also writes a stock.replenished event.
    data = tenant_a.admin.post(URL, payload, format="json", max_queries=PRODUCT_WRITE_BUDGET).json()
    assert (data["low_stock_threshold"], data["effective_threshold"]) == (3, 3)


def test_sku_surrounding_spaces_are_stripped(tenant_a, warehouse_a):
    response = tenant_a.admin.post(URL, body(warehouse_a, sku="  WID-009 \t"), format="json")
    assert response.status_code == 201
    assert Product.objects.get().sku == "WID-009"


# --- fault: fields read without validation, a missing field crashed with a 500 ---------------


def test_missing_fields_are_400_with_an_error_per_field(tenant_a, warehouse_a):
    before = catalog_state()
    response = tenant_a.admin.post(URL, {}, format="json")

    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {"name", "sku", "price", "warehouse_id", "initial_quantity"}


@pytest.mark.parametrize("missing", ["name", "sku", "price", "warehouse_id", "initial_quantity"])
def test_each_missing_field_is_named(tenant_a, warehouse_a, missing):
    before = catalog_state()
    response = tenant_a.admin.post(URL, body(warehouse_a, **{missing: ...}), format="json")

    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {missing}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", None),
        ("name", "x" * 201),
        ("name", {"first": "Widget"}),
        ("sku", ""),
        ("sku", "   "),
        ("sku", None),
        ("sku", "S" * 65),
        ("sku", "bad\x07sku"),
        ("sku", ["WID-001"]),
        ("price", None),
        ("warehouse_id", "main"),
        ("warehouse_id", True),
        ("warehouse_id", 1.5),
        ("warehouse_id", None),
        ("warehouse_id", [1]),
        ("initial_quantity", -1),
        ("initial_quantity", 1.5),
        ("initial_quantity", "many"),
        ("initial_quantity", None),
        ("initial_quantity", 10**12),
        ("initial_quantity", 10**100),
        ("description", "d" * 10_001),
        ("low_stock_threshold", -5),
        ("low_stock_threshold", "high"),
        ("low_stock_threshold", 10**10),
        ("product_type_id", "mugs"),
        ("product_type_id", 987654),
        ("is_bundle", "maybe"),
        ("is_bundle", []),
    ],
)
def test_invalid_field_is_400_on_that_field(tenant_a, warehouse_a, field, value):
    before = catalog_state()
    response = tenant_a.admin.post(URL, body(warehouse_a, **{field: value}), format="json")

    error = refused(response, 400, "validation_error", before)
    assert field in error["fields"], error


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        '{"name": "Widget A", ',
        "[]",
        '"a string"',
        '{"name": "Widget A", "price": NaN}',
        '{"name": "Widget A", "price": Infinity}',
    ],
)
def test_malformed_bodies_are_400(tenant_a, warehouse_a, text):
    before = catalog_state()
    response = post_raw(tenant_a.admin, URL, text)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in {"parse_error", "validation_error"}
    assert catalog_state() == before


@pytest.mark.parametrize("form", ["multipart", "urlencoded"])
def test_form_bodies_are_415_the_api_reads_json_only(tenant_a, warehouse_a, form):
    before = catalog_state()
    fields = {key: str(value) for key, value in body(warehouse_a).items()}
    if form == "multipart":
        response = tenant_a.admin.post(URL, fields, format="multipart")
    else:
        response = tenant_a.admin.post(
            URL, urlencode(fields), content_type="application/x-www-form-urlencoded"
        )
    refused(response, 415, "unsupported_media_type", before)


# --- fault: SKU uniqueness not enforced ------------------------------------------------------


def test_duplicate_sku_is_409(tenant_a, warehouse_a):
    make_product(tenant_a.company, "WID-001", warehouse=warehouse_a, quantity=5)
    before = catalog_state()

    response = tenant_a.admin.post(URL, body(warehouse_a), format="json")

    error = refused(response, 409, "sku_conflict", before)
    assert error["sku"] == "WID-001"


def test_duplicate_sku_after_stripping_spaces_is_409(tenant_a, warehouse_a):
    make_product(tenant_a.company, "WID-001", warehouse=warehouse_a)
    before = catalog_state()
    response = tenant_a.admin.post(URL, body(warehouse_a, sku=" WID-001 "), format="json")
    refused(response, 409, "sku_conflict", before)


def test_sku_is_unique_across_companies(tenant_a, tenant_b, warehouse_a, warehouse_b):
    make_product(tenant_b.company, "WID-001", warehouse=warehouse_b)
    before = catalog_state()
    response = tenant_a.admin.post(URL, body(warehouse_a), format="json")
    refused(response, 409, "sku_conflict", before)


def test_sku_uniqueness_is_a_database_constraint(tenant_a, warehouse_a):
    from django.db import IntegrityError, transaction

    make_product(tenant_a.company, "WID-001", warehouse=warehouse_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(company=tenant_a.company, name="Copy", sku="WID-001", price=1)


# (The concurrent duplicate is in test_concurrency.py, on PostgreSQL.)


# --- fault: product tied to one warehouse through a column on the product ----------------------


def test_product_lives_in_many_warehouses_through_stock_levels(tenant_a, warehouse_a):
    assert "warehouse" not in {field.name for field in Product._meta.get_fields()}
    response = tenant_a.admin.post(URL, body(warehouse_a, initial_quantity=7), format="json")
    product = Product.objects.get(pk=response.json()["id"])
    second = make_warehouse(tenant_a.company, "EAST")
    put_stock(product, second, 4)

    data = tenant_a.viewer.get(f"{URL}/{product.pk}").json()

    assert data["stock"] == [
        {"warehouse_id": warehouse_a.pk, "quantity": 7},
        {"warehouse_id": second.pk, "quantity": 4},
    ]


# --- fault: product and inventory committed in two transactions --------------------------------


def test_failure_after_the_product_insert_leaves_nothing(tenant_a, warehouse_a, monkeypatch):
    from stockflow.inventory import catalog_stock
    from stockflow.inventory.movements import record_initial_stocks

    def record_then_fail(*args, **kwargs):
        record_initial_stocks(*args, **kwargs)  # the stock level and ledger entry are written...
        raise RuntimeError("disk full")  # ...and then something breaks

    monkeypatch.setattr(catalog_stock, "record_initial_stocks", record_then_fail)
    before = catalog_state()

    response = tenant_a.admin.post(URL, body(warehouse_a), format="json")

    assert_error(response, 500, "server_error")
    assert catalog_state() == before
    assert not Product.objects.filter(sku="WID-001").exists()


def test_refused_stock_leaves_no_product(tenant_a, warehouse_a, monkeypatch):
    from stockflow.inventory import catalog_stock

    def refuse(*args, **kwargs):
        from stockflow.api.errors import Conflict

        raise Conflict("stock refused")

    monkeypatch.setattr(catalog_stock, "record_initial_stocks", refuse)
    before = catalog_state()
    refused(tenant_a.admin.post(URL, body(warehouse_a), format="json"), 409, "conflict", before)


# --- fault: price handled as a float --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"19.99"', Decimal("19.99")),
        ("19.99", Decimal("19.99")),
        ("0.1", Decimal("0.10")),
        ('"19.990"', Decimal("19.99")),
        ("1E+2", Decimal("100.00")),
        ("9999999999.99", Decimal("9999999999.99")),
        ("0", Decimal("0.00")),
        ("7", Decimal("7.00")),
    ],
)
def test_price_is_an_exact_decimal_from_the_json_text(tenant_a, warehouse_a, text, expected):
    raw = price_body(text, warehouse_a)
    response = post_raw(tenant_a.admin, URL, raw)

    assert response.status_code == 201, response.content
    stored = Product.objects.values_list("price", flat=True).get()
    assert stored == expected and str(stored) == str(expected)
    assert response.json()["price"] == str(expected)


@pytest.mark.parametrize(
    "text",
    [
        '"abc"',
        "-1",
        '"-0.01"',
        '"NaN"',
        '"nan"',
        '"Infinity"',
        '"-Infinity"',
        "1e400",
        "1E+12",
        "10000000000.00",
        "19.999",
        '"19.999"',
        '"1_000"',
        '"19,99"',
        '"0x10"',
        '""',
        "true",
        "null",
        "[19.99]",
        '{"amount": 19.99}',
        '"' + "9" * 2000 + '"',
    ],
)
def test_bad_price_is_400_on_price(tenant_a, warehouse_a, text):
    raw = price_body(text, warehouse_a)
    before = catalog_state()

    response = post_raw(tenant_a.admin, URL, raw)

    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {"price"}, error


def test_price_as_a_python_float_keeps_its_text(tenant_a, warehouse_a):
    # The test client writes 19.99 into the JSON text; it is read back as Decimal("19.99").
    response = tenant_a.admin.post(URL, body(warehouse_a, price=19.99), format="json")
    assert response.status_code == 201
    assert Product.objects.get().price == Decimal("19.99")


# --- fault: any authenticated user could create in any warehouse -----------------------------


def test_warehouse_of_another_company_is_404_and_nothing_created(tenant_a, tenant_b, warehouse_b):
    before = catalog_state()
    response = tenant_a.admin.post(URL, body(warehouse_b), format="json")
    refused(response, 404, "not_found", before)


def test_unknown_warehouse_is_404(tenant_a, warehouse_a):
    before = catalog_state()
    response = tenant_a.admin.post(URL, body(warehouse_a, warehouse_id=10**6), format="json")
    refused(response, 404, "not_found", before)


def test_huge_warehouse_id_is_404_not_500(tenant_a, warehouse_a):
    before = catalog_state()
    response = tenant_a.admin.post(URL, body(warehouse_a, warehouse_id=10**30), format="json")
    refused(response, 404, "not_found", before)


def test_another_company_looks_the_same_as_a_missing_warehouse(tenant_a, warehouse_b):
    foreign = tenant_a.admin.post(URL, body(warehouse_b), format="json").json()["error"]
    missing = tenant_a.admin.post(URL, body(warehouse_b, warehouse_id=10**6), format="json")
    missing = missing.json()["error"]
    # Same code, same keys, same message but for the id the caller sent.
    assert foreign["code"] == missing["code"] == "not_found"
    assert set(foreign) == set(missing)
    assert foreign["message"].replace(str(warehouse_b.pk), "N") == missing["message"].replace(
        str(10**6), "N"
    )


@pytest.mark.parametrize("role", [Role.VIEWER, Role.STAFF])
def test_warehouse_where_the_caller_may_not_write_is_404(tenant_a, warehouse_a, role):
    before = catalog_state()
    response = tenant_a.clients[role].post(URL, body(warehouse_a), format="json")
    refused(response, 404, "not_found", before)


def test_admin_elsewhere_cannot_create_where_only_staff(tenant_a, tenant_b, warehouse_b):
    user = make_user()
    Membership.objects.create(user=user, company=tenant_a.company, role=Role.ADMIN)
    Membership.objects.create(user=user, company=tenant_b.company, role=Role.STAFF)
    before = catalog_state()
    response = client_for(user).post(URL, body(warehouse_b), format="json")
    refused(response, 404, "not_found", before)


def test_anonymous_is_401(anon, warehouse_a):
    before = catalog_state()
    refused(anon.post(URL, body(warehouse_a), format="json"), 401, "not_authenticated", before)


def test_product_type_of_another_company_is_400(tenant_a, tenant_b, warehouse_a):
    foreign = make_product_type(tenant_b.company, "Theirs")
    before = catalog_state()
    response = tenant_a.admin.post(
        URL, body(warehouse_a, product_type_id=foreign.pk), format="json"
    )
    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {"product_type_id"}


def test_product_type_of_another_own_company_is_400(tenant_a, tenant_b, warehouse_a):
    # The caller is admin of both companies: the type exists for them, but not in the
    # company of the warehouse.
    Membership.objects.create(
        user=tenant_a.users[Role.ADMIN], company=tenant_b.company, role=Role.ADMIN
    )
    other = make_product_type(tenant_b.company, "Theirs")
    before = catalog_state()
    response = tenant_a.admin.post(URL, body(warehouse_a, product_type_id=other.pk), format="json")
    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {"product_type_id"}


def test_inactive_warehouse_is_400(tenant_a):
    closed = make_warehouse(tenant_a.company, "OLD", is_active=False)
    before = catalog_state()
    response = tenant_a.admin.post(URL, body(closed), format="json")
    error = refused(response, 400, "validation_error", before)
    assert set(error["fields"]) == {"warehouse_id"}


# --- bundles --------------------------------------------------------------------------------


def test_bundle_has_no_stock_of_its_own(tenant_a, warehouse_a):
    payload = body(warehouse_a, sku="KIT-1", is_bundle=True, initial_quantity=...)
    response = tenant_a.admin.post(URL, payload, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["is_bundle"], data["stock"], data["components"]) == (True, [], [])
    assert StockLevel.objects.count() == 0 and LedgerEntry.objects.count() == 0


def test_bundle_without_warehouse_names_its_company(tenant_a):
    payload = {
        "name": "Gift box",
        "sku": "KIT-1",
        "price": "30",
        "is_bundle": True,
        "company_id": tenant_a.company.pk,
    }
    response = tenant_a.admin.post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["company_id"] == tenant_a.company.pk


def test_bundle_with_initial_quantity_0_is_accepted(tenant_a, warehouse_a):
    payload = body(warehouse_a, sku="KIT-1", is_bundle=True, initial_quantity=0)
    assert tenant_a.admin.post(URL, payload, format="json").status_code == 201
    assert StockLevel.objects.count() == 0


def test_bundle_with_initial_stock_is_400(tenant_a, warehouse_a):
    before = catalog_state()
    payload = body(warehouse_a, sku="KIT-1", is_bundle=True, initial_quantity=5)
    error = refused(
        tenant_a.admin.post(URL, payload, format="json"), 400, "validation_error", before
    )
    assert set(error["fields"]) == {"initial_quantity"}


def test_bundle_without_any_company_is_400(tenant_a):
    before = catalog_state()
    payload = {"name": "Gift box", "sku": "KIT-1", "price": "30", "is_bundle": True}
    error = refused(
        tenant_a.admin.post(URL, payload, format="json"), 400, "validation_error", before
    )
    assert set(error["fields"]) == {"company_id"}


def test_bundle_in_another_company_is_404(tenant_a, tenant_b):
    before = catalog_state()
    payload = {
        "name": "Gift box",
        "sku": "KIT-1",
        "price": "30",
        "is_bundle": True,
        "company_id": tenant_b.company.pk,
    }
    refused(tenant_a.admin.post(URL, payload, format="json"), 404, "not_found", before)


# --- retries --------------------------------------------------------------------------------


def test_retry_with_the_same_idempotency_key_creates_once(tenant_a, warehouse_a):
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-wid-001"}
    first = tenant_a.admin.post(URL, body(warehouse_a), format="json", **headers)
    again = tenant_a.admin.post(URL, body(warehouse_a), format="json", **headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Product.objects.count() == 1 and LedgerEntry.objects.count() == 1


def test_same_key_with_another_body_is_422(tenant_a, warehouse_a):
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-wid-001"}
    tenant_a.admin.post(URL, body(warehouse_a), format="json", **headers)
    before = catalog_state()
    response = tenant_a.admin.post(URL, body(warehouse_a, sku="OTHER"), format="json", **headers)
    refused(response, 422, "idempotency_key_reused", before)


def test_refused_create_does_not_burn_the_key(tenant_a, warehouse_a):
    make_product(tenant_a.company, "WID-001", warehouse=warehouse_a)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k1"}
    response = tenant_a.admin.post(URL, body(warehouse_a), format="json", **headers)
    assert_error(response, 409, "sku_conflict")
    fixed = tenant_a.admin.post(URL, body(warehouse_a, sku="WID-002"), format="json", **headers)
    assert fixed.status_code == 201
