"""Abuse limits: request body size, JSON shape, page size, bounds of every numeric query
parameter and path id, throttling per token, failed logins."""

from __future__ import annotations

import bz2
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from stockflow.api.pagination import MAX_PAGE_SIZE
from stockflow.api.parsers import MAX_NESTING_DEPTH, DecimalJSONParser
from stockflow.api.throttling import LoginRateThrottle, TokenRateThrottle
from stockflow.tenancy.models import ApiToken, Role
from stockflow.tenancy.services import issue_token
from tests.factories import PASSWORD, APIClient, assert_error, client_for, company_rows
from tests.security.routes import route_methods
from tests.security.schema import api_schema

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HUGE = "99999999999999999999"  # beyond any 64-bit integer column


def oversized_json(limit: int) -> str:
    return json.dumps({"name": "x" * (limit + 1)})


# --- request bodies ------------------------------------------------------------------------


def test_the_configured_body_limit_is_one_mebibyte():
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/products"),
        ("post", "/api/stock/receipts"),
        ("post", "/api/sales"),
        ("post", "/api/companies"),
        ("patch", "/api/warehouses/{main}"),
        ("put", "/api/products/{mug}"),
    ],
)
def test_a_json_body_over_the_limit_is_413(shop_a, method, path):
    path = path.format(main=shop_a.main.pk, mug=shop_a.mug.pk)
    body = oversized_json(django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    before = company_rows(shop_a.company)
    response = getattr(shop_a.tenant.owner, method)(
        path, data=body, content_type="application/json"
    )
    assert_error(response, 413, "request_too_large")
    assert company_rows(shop_a.company) == before


def test_a_json_body_under_the_limit_is_read(tenant_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    fits = json.dumps({"name": "y" * 150})
    assert (
        tenant_a.owner.post(
            "/api/companies", data=fits, content_type="application/json"
        ).status_code
        == 201
    )
    assert_error(
        tenant_a.owner.post(
            "/api/companies", data=oversized_json(2000), content_type="application/json"
        ),
        413,
        "request_too_large",
    )


def test_a_multipart_body_over_the_limit_is_413_even_as_a_file(tenant_a):
    """Django streams uploaded files to disk whatever their size; no API endpoint takes files,
    so the whole body is limited."""
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    upload = SimpleUploadedFile("big.bin", b"x" * (limit + 1))
    before = company_rows(tenant_a.company)
    response = tenant_a.owner.post(
        "/api/companies", {"name": "Uploaded", "file": upload}, format="multipart"
    )
    assert_error(response, 413, "request_too_large")
    assert company_rows(tenant_a.company) == before


def test_a_compressed_charset_cannot_inflate_a_small_body(tenant_a):
    """``charset=bz2_codec`` would decompress 80 bytes into megabytes past the body limit."""
    small = bz2.compress(json.dumps({"name": "z" * 5_000_000}).encode())
    assert len(small) < 100
    response = tenant_a.owner.post(
        "/api/companies", data=small, content_type="application/json; charset=bz2_codec"
    )
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 100_000])
def test_deeply_nested_json_is_400(tenant_a, depth):
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    response = tenant_a.owner.post("/api/companies", data=body, content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_nesting_within_the_limit_is_parsed(tenant_a):
    depth = MAX_NESTING_DEPTH - 1
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    response = tenant_a.owner.post("/api/companies", data=body, content_type="application/json")
    error = assert_error(response, 400, "validation_error")
    assert "name" in error["fields"]


# --- page size -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/products", "/api/ledger", "/api/sales"])
def test_page_size_is_capped(shop_a, path):
    response = shop_a.tenant.viewer.get(path, {"page_size": MAX_PAGE_SIZE})
    assert response.status_code == 200
    assert len(response.json()["results"]) <= MAX_PAGE_SIZE
    for too_many in (MAX_PAGE_SIZE + 1, 10**6, HUGE):
        error = assert_error(
            shop_a.tenant.viewer.get(path, {"page_size": too_many}), 400, "validation_error"
        )
        assert list(error["fields"]) == ["page_size"]


def test_page_size_cuts_the_list(shop_a):
    response = shop_a.tenant.viewer.get("/api/ledger", {"page_size": 2}).json()
    assert len(response["results"]) == 2 and response["next"]
    page = shop_a.tenant.viewer.get("/api/products", {"page_size": 1}).json()
    assert len(page["results"]) == 1 and page["count"] == 3


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "", "１"])
def test_malformed_page_and_page_size_are_400(shop_a, value):
    for path, name in [("/api/products", "page"), ("/api/products", "page_size")]:
        response = shop_a.tenant.viewer.get(path, {name: value})
        assert list(assert_error(response, 400, "validation_error")["fields"]) == [name]


def test_a_page_past_the_last_one_is_404(shop_a):
    for page in ("2", HUGE, "9" * 5000):
        assert_error(shop_a.tenant.viewer.get("/api/products", {"page": page}), 404, "not_found")


@pytest.mark.parametrize("cursor", ["garbage", "cD1hYmM=", "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ=="])
def test_a_malformed_cursor_is_400(shop_a, cursor):
    # "p=abc" and a position beyond any id, base64-encoded.
    response = shop_a.tenant.viewer.get("/api/ledger", {"cursor": cursor})
    assert list(assert_error(response, 400, "validation_error")["fields"]) == ["cursor"]


# --- every numeric query parameter and path id ----------------------------------------------


def query_parameters() -> list[tuple[str, str, dict]]:
    """(schema path, parameter, its schema) for every query parameter of a GET."""
    found = []
    for result in api_schema().get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "GET":
            found += [
                (operation.path, parameter.name, parameter.definition.get("schema", {}))
                for parameter in operation.query
            ]
    return found


def integer_query_parameters() -> list[tuple[str, str, dict]]:
    return [p for p in query_parameters() if p[2].get("type") == "integer"]


def test_ids_and_counts_in_query_parameters_are_integers():
    """A "number" filter would take 1.5 for an id and pass a 20-digit value to the database."""
    counts = {"page", "page_size", "limit", "offset", "days", "cover_days"}
    wrong = [
        (path, name, schema.get("type"))
        for path, name, schema in query_parameters()
        if (name.endswith("_id") or name in counts) and schema.get("type") != "integer"
    ]
    assert not wrong, wrong


def test_every_integer_query_parameter_declares_its_bounds():
    parameters = integer_query_parameters()
    assert len(parameters) > 40
    unbounded = [
        (path, name)
        for path, name, schema in parameters
        if "minimum" not in schema or ("maximum" not in schema and name != "page")
    ]
    assert not unbounded, f"integer query parameters without bounds: {unbounded}"


def test_every_integer_query_parameter_refuses_out_of_range_values(shop_a, capsys):
    tried = 0
    for path, name, schema in integer_query_parameters():
        # The lists under an object's id: a webhook endpoint's deliveries, an import's errors.
        object_id = shop_a.import_job.pk if path.startswith("/api/imports/") else shop_a.webhook.pk
        url = path.format(company_id=shop_a.company.pk, company_pk=shop_a.company.pk, id=object_id)
        values = ["abc", "1.5", str(schema["minimum"] - 1), "-" + HUGE]
        if name != "page":  # a page past the last one is a 404, tested above
            values += [str(schema.get("maximum", 0) + 1), HUGE]
        for value in values:
            response = shop_a.tenant.owner.get(url, {name: value})
            error = assert_error(response, 400, "validation_error")
            assert name in error["fields"], (url, name, value, error)
            tried += 1
    assert tried > 200


def send(client: APIClient, method: str, path: str):
    if method == "GET":
        return client.get(path)
    return getattr(client, method.lower())(path, {}, format="json")


def test_a_path_id_beyond_any_integer_is_404_on_every_route(shop_a):
    """Path ids are digits only: a huge one must not overflow the database (SQLite refuses
    integers over 64 bits, PostgreSQL compares them as numeric)."""
    tried = 0
    for template, method in sorted(route_methods()):
        if "{" not in template or method not in {"GET", "PATCH", "DELETE"}:
            continue
        path = template.format(pk=HUGE, company_pk=HUGE, company_id=HUGE, product_id=HUGE)
        assert_error(send(shop_a.tenant.owner, method, path), 404, "not_found")
        # Inside the caller's own company too.
        if "company" in template and "{pk}" in template:
            own = template.format(pk=HUGE, company_pk=shop_a.company.pk)
            assert_error(send(shop_a.tenant.owner, method, own), 404, "not_found")
        tried += 1
    assert tried > 30


@pytest.mark.parametrize(
    "body_field",
    ["product_id", "warehouse_id"],
)
def test_an_id_beyond_any_integer_in_a_body_is_refused(shop_a, body_field):
    body = {"product_id": shop_a.mug.pk, "warehouse_id": shop_a.main.pk, "quantity": 1}
    body[body_field] = int(HUGE)
    before = company_rows(shop_a.company)
    response = shop_a.tenant.owner.post("/api/stock/receipts", body, format="json")
    if body_field == "product_id":  # the id that decides the company
        assert_error(response, 404, "not_found")
    else:
        assert body_field in assert_error(response, 400, "validation_error")["fields"]
    assert company_rows(shop_a.company) == before


@pytest.mark.parametrize(
    ("value", "status"),
    [
        # An offset PostgreSQL refuses (beyond 15:59): converted to UTC first, a valid instant.
        ("0568-01-30T01:11:40+18:03", 200),
        # Before year 1 or after year 9999 once in UTC.
        ("0001-01-01T00:00:00+05:00", 400),
        ("9999-12-31T23:59:59-05:00", 400),
    ],
)
def test_date_time_filters_at_the_edges_of_the_range(shop_a, value, status):
    for path, name in [("/api/ledger", "created_before"), ("/api/sales", "sold_after")]:
        response = shop_a.tenant.viewer.get(path, {name: value})
        if status == 200:
            assert response.status_code == 200, response.content
        else:
            assert name in assert_error(response, 400, "validation_error")["fields"]


# --- throttling ----------------------------------------------------------------------------


def test_the_token_rate_comes_from_the_environment(tmp_path):
    env = {
        **os.environ,
        "STOCKFLOW_THROTTLE_RATE": "7/minute",
        "STOCKFLOW_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "stockflow.settings",
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['token'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "7/minute", result.stderr


def test_requests_are_throttled_per_token(shop_a, monkeypatch):
    monkeypatch.setitem(TokenRateThrottle.THROTTLE_RATES, "token", "3/minute")
    owner = shop_a.tenant.users[Role.OWNER]
    first, second = client_for(owner), client_for(owner)
    receipt = {"product_id": shop_a.mug.pk, "warehouse_id": shop_a.main.pk, "quantity": 1}
    for _ in range(3):
        assert first.post("/api/stock/receipts", receipt, format="json").status_code == 201
    before = company_rows(shop_a.company)
    response = first.post("/api/stock/receipts", receipt, format="json")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert_error(first.get("/api/products"), 429, "throttled")
    assert company_rows(shop_a.company) == before
    # Another token of the same user has its own budget.
    assert second.get("/api/products").status_code == 200


def test_failed_logins_are_limited_per_address_and_username(tenant_a):
    rate = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"]
    allowed = LoginRateThrottle().parse_rate(rate)[0]
    user = tenant_a.users[Role.VIEWER]
    anon = APIClient()

    def login(username, password):
        body = {"username": username, "password": password}
        return anon.post("/api/auth/token", body, format="json")

    for _ in range(allowed):
        assert_error(login(user.username, "wrong"), 401, "authentication_failed")
    tokens = ApiToken.objects.count()
    response = login(user.username, PASSWORD)
    assert_error(response, 429, "throttled")  # even with the right password now
    assert int(response["Retry-After"]) > 0
    assert ApiToken.objects.count() == tokens
    # Case does not make a new username; another user from the same address is not blocked.
    assert_error(login(user.username.upper(), PASSWORD), 429, "throttled")
    other = tenant_a.users[Role.STAFF]
    assert login(other.username, PASSWORD).status_code == 201


def test_login_throttle_keys_are_safe_for_any_cache():
    """The username is client input: the cache key holds a fixed-length hash of it."""
    body = {"username": "é\x00 " * 100, "password": "x"}
    request = APIRequestFactory().post("/api/auth/token", body, format="json")
    key = LoginRateThrottle().get_cache_key(Request(request, parsers=[DecimalJSONParser()]), None)
    assert key.isascii() and key.isprintable() and " " not in key and len(key) < 120


def test_an_issued_token_is_throttled_like_any(shop_a, monkeypatch):
    monkeypatch.setitem(TokenRateThrottle.THROTTLE_RATES, "token", "1/minute")
    _, clear = issue_token(user=shop_a.tenant.users[Role.STAFF])
    client = client_for(shop_a.tenant.users[Role.STAFF], clear)
    assert client.get("/api/me").status_code == 200
    assert_error(client.get("/api/me"), 429, "throttled")
