"""/metrics (Prometheus, behind a token) and the JSON request logs: a request id in every
line and in the response, and never a token, password, webhook secret or Authorization
header."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.core import mail
from prometheus_client.parser import text_string_to_metric_families as text_parser

from stockflow.ops.logs import JsonFormatter, RequestIdFilter, redact
from stockflow.tenancy.models import Role
from stockflow.tenancy.services import issue_token
from stockflow.tenancy.views import MeView
from tests.factories import PASSWORD, APIClient, assert_error, client_for, make_invitation

pytestmark = pytest.mark.django_db

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


def scrape(client, token=METRICS_TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/metrics", **headers)


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    for line in text_parser(text):
        for one in line.samples:
            if one.name == name and one.labels == labels:
                return one.value
    return 0.0


def test_metrics_need_their_token(client, settings):
    settings.STOCKFLOW_METRICS_TOKEN = ""
    assert scrape(client).status_code == 404
    settings.STOCKFLOW_METRICS_TOKEN = METRICS_TOKEN
    for token in (None, "wrong", f"{METRICS_TOKEN}x"):
        refused = scrape(client, token=token)
        assert_error(refused, 401, "not_authenticated")
        assert refused["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert "stockflow_" not in refused.content.decode()
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_requests_and_stock_operations_are_counted(shop, client, settings):
    settings.STOCKFLOW_METRICS_TOKEN = METRICS_TOKEN
    before = scrape(client).content.decode()
    staff = shop.tenant.staff
    sale = {"product_id": shop.mug.pk, "warehouse_id": shop.main.pk, "quantity": 1}
    assert staff.post("/api/sales", sale, format="json").status_code == 201
    too_many = {**sale, "quantity": 10_000}
    assert staff.post("/api/sales", too_many, format="json").status_code == 409
    receipt = {"product_id": shop.mug.pk, "warehouse_id": shop.main.pk, "quantity": 3}
    assert staff.post("/api/stock/receipts", receipt, format="json").status_code == 201
    assert staff.get("/api/products").status_code == 200
    after = scrape(client).content.decode()

    def grew(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    ops = "stockflow_stock_operations_total"
    assert grew(ops, kind="sale", outcome="ok") == 1
    assert grew(ops, kind="sale", outcome="insufficient_stock") == 1
    assert grew(ops, kind="receipt", outcome="ok") == 1
    assert grew("stockflow_insufficient_stock_total", kind="sale") == 1
    latency = "stockflow_http_request_duration_seconds_count"
    assert grew(latency, route="product-list", method="GET", status="200") == 1
    assert grew(latency, route="sale-list", method="POST", status="409") == 1


@pytest.mark.postgres
def test_the_database_pool_is_scraped(shop, client, settings):
    from django.db import connection

    assert connection.pool is not None  # psycopg's pool, as in production
    settings.STOCKFLOW_METRICS_TOKEN = METRICS_TOKEN
    assert shop.tenant.staff.get("/api/products").status_code == 200
    text = scrape(client).content.decode()
    stats = connection.pool.get_stats()
    assert sample(text, "stockflow_db_pool_connections", state="open") == stats["pool_size"] >= 1
    assert sample(text, "stockflow_db_pool_connections", state="waiting") == 0


def test_other_apps_add_metrics_to_the_same_registry(client, settings):
    from stockflow.ops import metrics

    tasks = metrics.counter("stockflow_test_tasks_total", "Tasks.", ["kind"])
    assert metrics.counter("stockflow_test_tasks_total", "Tasks.", ["kind"]) is tasks
    tasks.labels(kind="email").inc(2)
    settings.STOCKFLOW_METRICS_TOKEN = METRICS_TOKEN
    text = scrape(client).content.decode()
    assert sample(text, "stockflow_test_tasks_total", kind="email") == 2


@pytest.fixture
def log_lines():
    """Everything logged during the test, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_each_request_has_a_json_line_with_its_id(shop, log_lines):
    owner = shop.tenant.owner
    response = owner.get(f"/api/companies/{shop.company.pk}/members", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    made_up = owner.get("/api/products")["X-Request-ID"]
    assert len(made_up) == 32
    # A header that is not an id is replaced, not echoed.
    assert APIClient().get("/healthz", HTTP_X_REQUEST_ID="x" * 500)["X-Request-ID"] != "x" * 500
    lines = [line for line in log_lines() if line["logger"] == "stockflow.request"]
    members = next(line for line in lines if line["request_id"] == "abc-123")
    assert members["route"] == "member-list" and members["status"] == 200
    assert members["company"] == shop.company.pk
    assert members["user"] == shop.tenant.users[Role.OWNER].pk
    assert members["duration_ms"] >= 0 and members["method"] == "GET"
    assert any(line["request_id"] == made_up for line in lines)


def test_secrets_never_reach_the_logs(
    shop, log_lines, monkeypatch, settings, account_emails_at_once
):
    settings.STOCKFLOW_METRICS_TOKEN = METRICS_TOKEN
    user = shop.tenant.users[Role.STAFF]
    _, token = issue_token(user=user)
    client = client_for(user, token)
    invitation = make_invitation(shop.company)
    webhook_secret = "whsec_9f8e7d6c5b4a39281706"
    anon = APIClient()
    # A login with the password, calls with the token, a wrong token, an invitation token.
    anon.post("/api/auth/token", {"username": user.username, "password": PASSWORD}, format="json")
    anon.post(
        "/api/auth/token", {"username": user.username, "password": "x" + PASSWORD}, format="json"
    )
    client.get("/api/me")
    APIClient().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token[:-2]}xx")
    anon.post(
        "/api/invitations/accept",
        {"token": invitation.token, "username": "n", "password": PASSWORD},
        format="json",
    )
    anon.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    # The account emails' tasks: the links they send are not logged either.
    shop.tenant.owner.post(
        f"/api/companies/{shop.company.pk}/invitations",
        {"email": "invited@example.com", "role": "staff"},
        format="json",
    )
    anon.post("/api/password-reset", {"email": user.email}, format="json")
    invited, reset = mail.outbox
    emailed = [
        re.search(r"inv_[\w-]+", invited.body).group(0),
        re.search(r"token=([\w-]+)", reset.body).group(1),
    ]

    # An unexpected error whose message carries secrets (the worst case: logged with its
    # traceback).
    def explode(self, request):
        raise RuntimeError(
            f"boom Authorization: Bearer {token} password={PASSWORD} "
            f"{{'url': 'https://hooks.example.com', 'secret': '{webhook_secret}'}}"
        )

    monkeypatch.setattr(MeView, "get", explode)
    assert client.get("/api/me").status_code == 500
    logging.getLogger("stockflow.webhooks").info(
        "delivering %s", {"url": "https://hooks.example.com", "signing_secret": webhook_secret}
    )

    text = json.dumps(log_lines())
    assert "boom" in text and "RuntimeError" in text  # the error itself is logged
    for secret in (
        token,
        token.split("_", 2)[2],  # the secret part of sf_<prefix>_<secret> (may hold "_")
        PASSWORD,
        invitation.token,
        webhook_secret,
        METRICS_TOKEN,
        *emailed,
    ):
        assert secret not in text, secret


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Authorization: Bearer abcdefghijklmnop", "Authorization"),
        ("password=hunter2hunter2", "password="),
        ('{"api_key": "k-123456789"}', "api_key"),
        ("token sf_0123456789ab_Zm9vYmFyYmF6cXV4", "token"),
        ("invite inv_AbCdEfGhIjKlMnOp", "invite"),
    ],
)
def test_redaction_keeps_the_name_and_masks_the_value(text, kept):
    masked = redact(text)
    assert kept in masked and "[redacted]" in masked
    assert not any(
        word in masked
        for word in ("abcdefghijklmnop", "hunter2", "k-123456789", "Zm9vYmFy", "AbCdEf")
    )
