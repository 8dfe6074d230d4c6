"""Hooks and fixtures for the whole suite. Builders live in ``tests.factories``."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache

from tests.factories import APIClient, Shop, Tenant, make_tenant, stocked_shop
from tests.mailserver import smtp_server
from tests.report import REPORT

pytest_plugins = ["tests.statements.plugin"]


def on_postgres() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    # The slow tests start first: parallel workers then finish at about the same time.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if on_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL or run `make test`)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_sessionstart(session):
    # Under CI the PostgreSQL run must really be on PostgreSQL, never silently skipped.
    if os.environ.get("STOCKFLOW_REQUIRE_POSTGRES") == "1" and not on_postgres():
        pytest.exit("PostgreSQL is required for this run but DATABASE_URL is not PostgreSQL", 3)


def pytest_sessionfinish(session):
    # A pytest-xdist worker hands its figures to the controller, which prints them.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["report"] = dict(REPORT)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    REPORT.update(getattr(node, "workeroutput", {}).get("report", {}))


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("security coverage")
        for _, line in sorted(REPORT.items()):
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters live in the cache; each test starts with fresh ones.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1 that Django sends to; yields its inbox."""
    with smtp_server(settings) as inbox:
        yield inbox


@pytest.fixture
def account_emails_at_once(settings, monkeypatch):
    """The account emails' tasks enqueued at once (a test's transaction never commits) and
    run as they are enqueued (Django's immediate task backend): ``mail.outbox`` has the email
    when the request returns. tests/accounts/test_account_emails.py proves the real way:
    commit, queue, worker, SMTP."""
    from stockflow.accounts import emails

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    monkeypatch.setattr(emails, "on_commit", lambda callback: callback())


@pytest.fixture
def tenant_a(db) -> Tenant:
    return make_tenant("Acme")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return make_tenant("Globex")


@pytest.fixture
def shop(tenant_a) -> Shop:
    """Company A's standard stock (``stocked_shop``); the alerts and web tests have their own."""
    return stocked_shop(tenant_a)


@pytest.fixture
def other_shop(tenant_b) -> Shop:
    return stocked_shop(tenant_b, "B")


@pytest.fixture
def anon() -> APIClient:
    return APIClient()
