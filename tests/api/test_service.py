import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_answers_without_the_database(client, monkeypatch):
    """Liveness only: a database outage must not get every web process restarted
    (/readyz checks the database, tests/ops)."""

    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_schema(tenant_a):
    response = tenant_a.viewer.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/companies" in schema["paths"] or "/api/companies/" in schema["paths"]


def test_docs_are_served_with_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html
    asset = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert asset in html
    assert client.get(asset).status_code == 200


def test_admin_login_page(client):
    assert client.get("/admin/login/").status_code == 200


def test_check_deploy_is_clean_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="stockflow.example.com",
        DJANGO_SETTINGS_MODULE="stockflow.settings",
        STOCKFLOW_ENV_FILE="",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_refuses_to_start_in_production():
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "SECRET_KEY"}}
    env.update(DEBUG="0", DJANGO_SETTINGS_MODULE="stockflow.settings", STOCKFLOW_ENV_FILE="")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
