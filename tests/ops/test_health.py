"""/healthz (alive) and /readyz (can serve): public, plain JSON, a 503 naming what failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from stockflow.ops import health, heartbeat

pytestmark = pytest.mark.django_db


def test_ready_when_everything_is(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "worker": "not configured",
        "cache": "ok",
    }


def test_database_down_is_503_naming_it_without_driver_details(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise ConnectionError('connection to server at "10.0.0.5", port 5432 failed')

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["database", "migrations", "worker"]
    assert body["checks"]["database"] == "failed: ConnectionError"
    assert "10.0.0.5" not in response.content.decode()
    assert body["checks"]["cache"] == "ok"
    # Alive all the same.
    assert client.get("/healthz").status_code == 200


def test_an_unapplied_migration_is_503(client, monkeypatch):
    class Pending:
        app_label, name = "inventory", "0099_future"

    class Executor:
        def __init__(self, connection):
            self.loader = type("L", (), {"graph": type("G", (), {"leaf_nodes": lambda s: []})()})

        def migration_plan(self, targets):
            return [(Pending, False)]

    monkeypatch.setattr(health, "_applied_ok", False)
    monkeypatch.setattr(health, "MigrationExecutor", Executor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == (
        "failed: 1 unapplied migration(s): inventory.0099_future"
    )


def test_the_worker_heartbeat_counts_only_when_a_worker_is_configured(client, settings):
    settings.STOCKFLOW_WORKER = True
    settings.STOCKFLOW_WORKER_HEARTBEAT_MAX_AGE = 30
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "failed: no heartbeat from the worker yet"
    heartbeat.beat(at=timezone.now() - timedelta(seconds=45))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "limit 30 s" in response.json()["checks"]["worker"]
    heartbeat.beat()
    assert client.get("/readyz").status_code == 200
    settings.STOCKFLOW_WORKER = False
    heartbeat.beat(at=timezone.now() - timedelta(days=1))
    assert client.get("/readyz").json()["checks"]["worker"] == "not configured"


def test_a_broken_cache_is_503(client, monkeypatch):
    monkeypatch.setattr(cache, "get", lambda *a, **k: None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_exempt_from_the_https_redirect(client, settings, path):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(path).status_code == 200
    assert client.get("/api/me").status_code == 301
