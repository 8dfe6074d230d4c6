"""Idempotency-Key on the stock POSTs: replays, reuse with another body, per-company scope,
failed first attempts, concurrent duplicates (PostgreSQL), and purging old keys."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from stockflow.api.models import IdempotencyKey
from stockflow.inventory import movements, sales
from stockflow.inventory.models import LedgerEntry, Sale, StockMovement
from stockflow.inventory.operations import InsufficientStock
from tests.factories import assert_error, client_for
from tests.inventory.conftest import db_state, quantity_of, run_concurrently


def bodies(shop) -> dict[str, dict]:
    return {
        "/api/stock/receipts": {
            "product_id": shop.mug.id,
            "warehouse_id": shop.main.id,
            "quantity": 5,
        },
        "/api/stock/adjustments": {
            "product_id": shop.mug.id,
            "warehouse_id": shop.main.id,
            "change": -5,
            "reason": "damage",
        },
        "/api/stock/transfers": {
            "product_id": shop.mug.id,
            "from_warehouse_id": shop.main.id,
            "to_warehouse_id": shop.backup.id,
            "quantity": 5,
        },
        "/api/sales": {"product_id": shop.gift_box.id, "warehouse_id": shop.main.id, "quantity": 5},
    }


@pytest.mark.parametrize(
    "url", ["/api/stock/receipts", "/api/stock/adjustments", "/api/stock/transfers", "/api/sales"]
)
def test_retry_with_same_key_and_body_replays_the_first_response(tenant_a, shop, url):
    body = bodies(shop)[url]
    first = tenant_a.staff.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == 201, first.content
    after_first = db_state()

    replay = tenant_a.staff.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")

    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert db_state() == after_first


def test_key_order_of_the_body_does_not_matter(tenant_a, shop):
    body = bodies(shop)["/api/stock/receipts"]
    first = tenant_a.staff.post(
        "/api/stock/receipts", body, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    reordered = dict(reversed(list(body.items())))
    replay = tenant_a.staff.post(
        "/api/stock/receipts", reordered, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert replay.json() == first.json()
    assert quantity_of(shop.mug, shop.main) == 105


def test_same_key_with_another_body_or_endpoint_is_422(tenant_a, shop):
    body = bodies(shop)["/api/stock/receipts"]
    assert (
        tenant_a.staff.post(
            "/api/stock/receipts", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
        ).status_code
        == 201
    )
    before = db_state()

    other_body = {**body, "quantity": 6}
    response = tenant_a.staff.post(
        "/api/stock/receipts", other_body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert_error(response, 422, "idempotency_key_reused")
    sale = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 5}
    response = tenant_a.staff.post("/api/sales", sale, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert_error(response, 422, "idempotency_key_reused")
    assert db_state() == before


def test_keys_are_scoped_per_company(tenant_a, tenant_b, shop, other_shop):
    mine = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}
    theirs = {"product_id": other_shop.mug.id, "warehouse_id": other_shop.main.id, "quantity": 1}
    assert (
        tenant_a.staff.post(
            "/api/sales", mine, format="json", HTTP_IDEMPOTENCY_KEY="same"
        ).status_code
        == 201
    )
    response = tenant_b.staff.post("/api/sales", theirs, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert (quantity_of(shop.mug, shop.main), quantity_of(other_shop.mug, other_shop.main)) == (
        99,
        9,
    )
    assert IdempotencyKey.objects.filter(key="same").count() == 2


def test_a_refused_request_does_not_use_up_its_key(tenant_a, shop):
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 150}
    before = db_state()
    first = tenant_a.staff.post("/api/sales", body, format="json", HTTP_IDEMPOTENCY_KEY="big-sale")
    assert_error(first, 409, "insufficient_stock")
    assert db_state() == before
    assert not IdempotencyKey.objects.exists()

    movements.receive_stock(product=shop.mug, warehouse=shop.main, quantity=50)
    retry = tenant_a.staff.post("/api/sales", body, format="json", HTTP_IDEMPOTENCY_KEY="big-sale")
    assert retry.status_code == 201
    assert quantity_of(shop.mug, shop.main) == 0


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "bad\x07key"])
def test_invalid_keys_are_refused(tenant_a, shop, key):
    before = db_state()
    body = bodies(shop)["/api/sales"]
    response = tenant_a.staff.post("/api/sales", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    error = assert_error(response, 400, "validation_error")
    assert "Idempotency-Key" in error["fields"]
    assert db_state() == before


def test_viewer_with_a_key_gets_403_and_claims_nothing(tenant_a, shop):
    body = bodies(shop)["/api/sales"]
    response = tenant_a.viewer.post("/api/sales", body, format="json", HTTP_IDEMPOTENCY_KEY="v")
    assert_error(response, 403, "permission_denied")
    assert not IdempotencyKey.objects.exists()


def test_purge_deletes_keys_past_their_ttl(tenant_a, shop, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 48
    now = timezone.now()
    for index, age in enumerate([1, 47, 49, 24 * 30]):
        IdempotencyKey.objects.create(
            company=shop.company,
            key=f"k{index}",
            fingerprint="f",
            status_code=201,
            response_body="{}",
            created_at=now - timedelta(hours=age),
        )
    call_command("purge_idempotency_keys")
    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == ["k0", "k1"]

    call_command("purge_idempotency_keys", "--older-than-hours", "24")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k0"]
    with pytest.raises(CommandError):
        call_command("purge_idempotency_keys", "--older-than-hours", "2")
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 1  # a setting below the promised 24 hours is ignored
    call_command("purge_idempotency_keys")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k0"]


def test_trailing_slash_is_the_same_endpoint(tenant_a, shop):
    body = bodies(shop)["/api/stock/receipts"]
    first = tenant_a.staff.post(
        "/api/stock/receipts", body, format="json", HTTP_IDEMPOTENCY_KEY="s"
    )
    replay = tenant_a.staff.post(
        "/api/stock/receipts/", body, format="json", HTTP_IDEMPOTENCY_KEY="s"
    )
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert quantity_of(shop.mug, shop.main) == 105


def test_an_expired_key_is_claimed_again_after_purge(tenant_a, shop):
    body = bodies(shop)["/api/stock/receipts"]
    tenant_a.staff.post("/api/stock/receipts", body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=30))
    call_command("purge_idempotency_keys")
    again = tenant_a.staff.post(
        "/api/stock/receipts", body, format="json", HTTP_IDEMPOTENCY_KEY="old"
    )
    assert again.status_code == 201
    assert not again.has_header("Idempotent-Replayed")
    assert quantity_of(shop.mug, shop.main) == 110


# --- concurrent duplicates (PostgreSQL row locks) -------------------------------------------


def _slow_down(monkeypatch, module, name: str, seconds: float) -> None:
    """Keep the operation's transaction (and so its claimed key) open a little longer, so
    that concurrent duplicates surely arrive while it runs."""
    original = getattr(module, name)

    def slow(**kwargs):
        result = original(**kwargs)
        time.sleep(seconds)
        return result

    monkeypatch.setattr(module, name, slow)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_have_one_effect_and_one_response(
    tenant_a, shop, monkeypatch
):
    _slow_down(monkeypatch, sales, "record_sale", 0.3)
    body = {"product_id": shop.gift_box.id, "warehouse_id": shop.main.id, "quantity": 2}
    clients = [client_for(tenant_a.users["staff"]) for _ in range(4)]

    def post(client):
        started = time.monotonic()
        response = client.post("/api/sales", body, format="json", HTTP_IDEMPOTENCY_KEY="dup")
        return response, time.monotonic() - started

    outcomes = run_concurrently([lambda c=c: post(c) for c in clients])

    responses = [response for response, _ in outcomes]
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.content for r in responses}) == 1
    assert sorted(r.has_header("Idempotent-Replayed") for r in responses) == [
        False,
        True,
        True,
        True,
    ]
    # The duplicates waited for the first request instead of failing or running again.
    assert all(elapsed >= 0.25 for _, elapsed in outcomes)
    assert Sale.objects.count() == 1
    assert LedgerEntry.objects.filter(reason="sale").count() == 2
    assert (quantity_of(shop.mug, shop.main), quantity_of(shop.coffee, shop.main)) == (98, 46)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_and_different_bodies(tenant_a, shop, monkeypatch):
    _slow_down(monkeypatch, movements, "receive_stock", 0.3)
    clients = [client_for(tenant_a.users["staff"]) for _ in range(2)]

    def post(client, quantity):
        body = {"product_id": shop.mug.id, "warehouse_id": shop.backup.id, "quantity": quantity}
        return client.post("/api/stock/receipts", body, format="json", HTTP_IDEMPOTENCY_KEY="dup")

    first, second = run_concurrently([lambda: post(clients[0], 1), lambda: post(clients[1], 2)])

    assert sorted([first.status_code, second.status_code]) == [201, 422]
    assert StockMovement.objects.count() == 1
    accepted = first if first.status_code == 201 else second
    assert quantity_of(shop.mug, shop.backup) == accepted.json()["quantity"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_duplicate_waiting_on_a_failed_first_attempt_runs_itself(tenant_a, shop, monkeypatch):
    """The first attempt claims the key then fails (409, rolled back with its key): the
    duplicate that waited on the key claims it and runs."""
    original = sales.record_sale
    calls = []

    def first_call_fails(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.3)
            raise InsufficientStock([])
        return original(**kwargs)

    monkeypatch.setattr(sales, "record_sale", first_call_fails)
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}
    clients = [client_for(tenant_a.users["staff"]) for _ in range(2)]

    def post(client, delay):
        time.sleep(delay)
        return client.post("/api/sales", body, format="json", HTTP_IDEMPOTENCY_KEY="flaky")

    first, second = run_concurrently([lambda: post(clients[0], 0), lambda: post(clients[1], 0.1)])

    assert (first.status_code, second.status_code) == (409, 201)
    assert Sale.objects.count() == 1
    assert IdempotencyKey.objects.get().status_code == 201
