"""Webhook deliveries to a real HTTP receiver on 127.0.0.1, verified with the Standard
Webhooks reference library (not with our code)."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from stockflow.inventory import sales as inventory
from stockflow.notifications import services
from stockflow.notifications.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.notifications.receiver import Receiver, run_worker_once, work_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(autouse=True)
def fast_retries(settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [0.2, 0.2, 0.2, 0.2]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    settings.WEBHOOK_LEASE_MARGIN_SECONDS = 0.5


def endpoint_for(shop, url, events=("*",)) -> WebhookEndpoint:
    return services.create_endpoint(company_id=shop.company.id, url=url, events=list(events))


def sell_out_mugs(shop):
    """100 mugs (threshold 20) sold in two sales: stock.low, then stock.out."""
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=15)


def test_a_low_stock_event_reaches_the_receiver_signed(shop, receiver):
    endpoint = endpoint_for(shop, receiver.url, ["stock.low"])
    run_worker_once()  # the replenished event of the initial stock: not subscribed
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    work_until(lambda: len(receiver.received) == 1)

    (request,) = receiver.received
    event = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert event["type"] == "stock.low"
    assert request.headers["webhook-id"] == event["id"]
    assert request.headers["content-type"] == "application/json"
    assert event["data"]["sku"] == "MUG"
    assert event["data"]["quantity_before"] == 100 and event["data"]["quantity_after"] == 15
    assert event["data"]["days_until_stockout"] == 5  # 15 units at 85 per 30 days
    assert request.path == "/hooks/stock"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    (attempt,) = delivery.attempts.all()
    assert attempt.status_code == 200 and attempt.response_body == "ok" and not attempt.error
    # A forged body fails verification with the library.
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body.replace(b"15", b"16"), request.headers)


def test_a_failing_receiver_gets_the_same_event_again_until_it_answers_2xx(shop, receiver):
    receiver.statuses = [500, 200]
    endpoint = endpoint_for(shop, receiver.url, ["stock.out"])
    sell_out_mugs(shop)
    work_until(lambda: len(receiver.received) == 2)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    Webhook(endpoint.secret).verify(second.body, second.headers)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [a.status_code for a in delivery.attempts.order_by("id")] == [500, 200]
    run_worker_once()
    assert len(receiver.received) == 2


def test_a_receiver_down_during_the_sale_gets_the_event_once_it_is_up(shop):
    receiver = Receiver().start()
    port = receiver.port
    endpoint_for(shop, receiver.url, ["stock.low"])
    receiver.stop()
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    work_until(lambda: WebhookDelivery.objects.filter(attempt_count__gte=2).exists())
    attempts = WebhookDelivery.objects.get().attempts.all()
    assert all(a.status_code is None and a.error for a in attempts)

    back = Receiver(port=port).start()
    try:
        work_until(lambda: len(back.received) == 1)
        assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
    finally:
        back.stop()


def test_a_rolled_back_change_is_never_delivered(shop, receiver):
    endpoint_for(shop, receiver.url, ["stock.low", "stock.out"])
    with pytest.raises(RuntimeError), transaction.atomic():
        sell_out_mugs(shop)
        raise RuntimeError("rolled back")
    run_worker_once()
    run_worker_once()
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_each_subscribed_endpoint_gets_its_own_delivery(shop, other_shop, receiver):
    everything = endpoint_for(shop, receiver.url)
    only_out = endpoint_for(shop, receiver.url + "?only=out", ["stock.out"])
    paused = endpoint_for(shop, receiver.url + "?paused")
    services.update_endpoint(paused, is_active=False)
    foreign = endpoint_for(other_shop, receiver.url + "?foreign")
    sell_out_mugs(shop)
    # low and out; out. Not the replenished event of the initial stock: it happened before
    # the endpoints were created.
    work_until(lambda: len(receiver.received) == 3)
    run_worker_once()
    assert len(receiver.received) == 3
    by_endpoint = {
        endpoint.id: sorted(
            json.loads(d.payload)["type"] for d in WebhookDelivery.objects.filter(endpoint=endpoint)
        )
        for endpoint in (everything, only_out, paused, foreign)
    }
    assert by_endpoint == {
        everything.id: ["stock.low", "stock.out"],
        only_out.id: ["stock.out"],
        paused.id: [],
        foreign.id: [],
    }


def test_during_a_rotation_both_secrets_sign(shop, receiver):
    endpoint = endpoint_for(shop, receiver.url, ["stock.low"])
    old_secret = endpoint.secret
    endpoint = services.rotate_secret(endpoint)
    assert endpoint.secret != old_secret
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    work_until(lambda: len(receiver.received) == 1)
    (request,) = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(request.body, request.headers)
    Webhook(endpoint.secret).verify(request.body, request.headers)


def test_redirects_are_not_followed_and_answers_are_kept_to_a_kilobyte(shop, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [60]  # no retry during the test
    receiver.statuses = [302]
    receiver.headers = {"Location": "http://127.0.0.1:9/elsewhere"}
    receiver.answer = b"x" * 5000
    endpoint_for(shop, receiver.url, ["stock.low"])
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    work_until(lambda: WebhookDelivery.objects.filter(attempt_count__gte=1).exists())
    attempt = WebhookDelivery.objects.get().attempts.first()
    assert attempt.status_code == 302 and "not followed" in attempt.error
    assert attempt.response_body == "x" * 1024
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def test_a_private_address_is_refused_again_at_delivery(shop, receiver, settings):
    endpoint_for(shop, receiver.url, ["stock.low"])  # registered while allowed
    settings.WEBHOOK_ALLOW_PRIVATE = False
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    work_until(lambda: WebhookDelivery.objects.filter(attempt_count__gte=1).exists())
    attempt = WebhookDelivery.objects.get().attempts.first()
    assert attempt.status_code is None and "inside the network" in attempt.error
    assert receiver.received == []


def test_retries_stop_when_the_schedule_is_spent(shop, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [0.1, 0.1]
    receiver.statuses = [503]
    endpoint_for(shop, receiver.url, ["stock.low"])
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    work_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED).exists())
    assert len(receiver.received) == 3
    assert WebhookDelivery.objects.get().attempt_count == 3


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owners_emailed(
    shop, receiver, settings, mailoutbox, tenant_a
):
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = 0.3
    settings.WEBHOOK_RETRY_SCHEDULE = [0.2] * 10
    receiver.statuses = [500]
    endpoint = endpoint_for(shop, receiver.url, ["stock.low"])
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    work_until(lambda: WebhookEndpoint.objects.get(pk=endpoint.pk).disabled_at is not None)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    (mail,) = mailoutbox
    assert mail.to == [tenant_a.users["owner"].email]
    assert endpoint.url in mail.subject
    sent = len(receiver.received)
    work_until(lambda: True)
    run_worker_once()
    assert len(receiver.received) == sent  # a disabled endpoint gets nothing more


def test_ping_and_a_retry_by_hand(shop, receiver):
    endpoint = endpoint_for(shop, receiver.url, ["stock.low"])
    ping = services.send_ping(endpoint)
    work_until(lambda: len(receiver.received) == 1)
    event = Webhook(endpoint.secret).verify(receiver.received[0].body, receiver.received[0].headers)
    assert event["type"] == "webhook.ping" and event["id"] == f"ping_{ping.id}"
    services.retry_delivery(WebhookDelivery.objects.get(pk=ping.pk))
    work_until(lambda: len(receiver.received) == 2)
    assert receiver.ids() == [f"ping_{ping.id}"] * 2
