"""Browser-facing protections: CSRF on session-authenticated writes, and the security headers
and cookie flags of the production settings (``check --deploy`` is in tests/api)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from stockflow.tenancy.models import Company, Role
from tests.factories import PASSWORD, APIClient, assert_error, company_rows

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def session_client(user) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def csrf_token(client: APIClient) -> str:
    """The token a browser gets from any page with a form (here the login page)."""
    client.get("/api-auth/login/")
    return client.cookies["csrftoken"].value


def test_a_session_write_without_the_csrf_token_is_403(shop_a):
    client = session_client(shop_a.tenant.users[Role.OWNER])
    before, companies = company_rows(shop_a.company), Company.objects.count()
    writes = [
        ("post", "/api/companies", {"name": "Forged"}),
        ("patch", f"/api/warehouses/{shop_a.main.pk}", {"name": "Forged"}),
        ("delete", f"/api/suppliers/{shop_a.mug_supplier.pk}", None),
        (
            "post",
            "/api/sales",
            {"product_id": shop_a.mug.pk, "warehouse_id": shop_a.main.pk, "quantity": 1},
        ),
    ]
    for method, path, body in writes:
        response = getattr(client, method)(path, body, format="json")
        error = assert_error(response, 403, "permission_denied")
        assert "CSRF" in error["message"]
    # A wrong token is no better than none.
    response = client.post(
        "/api/companies", {"name": "Forged"}, format="json", HTTP_X_CSRFTOKEN="x" * 64
    )
    assert_error(response, 403, "permission_denied")
    assert company_rows(shop_a.company) == before
    assert Company.objects.count() == companies


def test_a_session_write_with_the_csrf_token_works(shop_a):
    client = session_client(shop_a.tenant.users[Role.OWNER])
    token = csrf_token(client)
    response = client.post(
        "/api/companies", {"name": "Spin-off"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201, response.content
    response = client.post(
        "/api/sales",
        {"product_id": shop_a.mug.pk, "warehouse_id": shop_a.main.pk, "quantity": 1},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201, response.content


def test_session_reads_need_no_csrf_token(shop_a):
    client = session_client(shop_a.tenant.users[Role.VIEWER])
    assert client.get("/api/products").status_code == 200


def test_token_authenticated_writes_need_no_csrf_token(shop_a):
    """A bearer token is not sent by browsers on their own: no CSRF risk, no CSRF check."""
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(**shop_a.tenant.owner._credentials)
    response = client.post("/api/companies", {"name": "Scripted"}, format="json")
    assert response.status_code == 201, response.content


PROBE = r"""
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

client = Client(HTTP_HOST="stockflow.example.com")
plain = client.get("/api/me")
secure = client.get("/api/me", secure=True)
# Behind the TLS proxy: plain HTTP to gunicorn, marked secure by the proxy's header.
proxied = client.get("/api/me", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "proxied_status": proxied.status_code,
    "secure_status": secure.status_code,
    "headers": dict(secure.items()),
    "settings": {
        name: getattr(settings, name)
        for name in [
            "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE",
            "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        ]
    },
}))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """A request served with the production settings (DEBUG off, HTTPS on), in a process
    of its own so that nothing of the test settings leaks in."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DATABASE_URL"}}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="stockflow.example.com",
        DJANGO_SETTINGS_MODULE="stockflow.settings",
        STOCKFLOW_VAR_DIR=str(tmp_path_factory.mktemp("production")),
        STOCKFLOW_ENV_FILE="",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_plain_http_to_https(production):
    assert production["plain_status"] == 301
    assert production["plain_location"] == "https://stockflow.example.com/api/me"


def test_behind_a_tls_proxy_its_forwarded_proto_makes_a_request_secure(production):
    assert production["proxied_status"] == 401  # the API answered, no redirect


def test_production_sends_the_security_headers(production):
    headers = {name.lower(): value for name, value in production["headers"].items()}
    assert production["secure_status"] == 401  # the API answered, over HTTPS
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"


def test_production_cookies_are_secure(production):
    assert production["settings"] == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    }
