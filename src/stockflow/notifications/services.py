"""Every write of the notifications: endpoints, dispatching events to deliveries, attempts.

How an event reaches a receiver, at least once:

1. The stock change commits its ``StockEvent`` (``inventory.events``).
2. ``dispatch_new_events`` (the worker's scheduler, every tick) finds the events not yet
   handed out, marks each as dispatched (``DispatchedEvent``, inserted once whatever the
   number of workers) and, in the same transaction, creates one ``WebhookDelivery`` per
   subscribed active endpoint with the exact body to send; after commit it enqueues a
   ``deliver_webhook`` task per delivery.
3. ``attempt_delivery`` claims the delivery (row locked ``SKIP LOCKED``, then a lease,
   ``locked_until``, committed before any HTTP), posts it, and records the attempt. A 2xx
   is delivered; anything else is retried after the next delay of
   ``WEBHOOK_RETRY_SCHEDULE`` (with jitter), until none is left (failed). A worker killed
   during the request leaves the lease to expire: ``sweep_deliveries`` enqueues it again.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from stockflow.inventory.models import StockEvent
from stockflow.notifications import emails, signing, transport
from stockflow.notifications.models import (
    DeliveryAttempt,
    DeliveryStatus,
    DispatchedEvent,
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
)
from stockflow.ops import metrics
from stockflow.tenancy.models import Membership, Role

# How far back the dispatcher looks for events not handed out: longer than any stock
# transaction stays open (an event is dated when its transaction ran, not when it committed).
DISPATCH_LOOKBACK = timedelta(minutes=15)
DISPATCH_BATCH = 500
PING = "webhook.ping"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_message_id(event_id: int) -> str:
    return f"evt_{event_id}"


def event_body(event: StockEvent) -> str:
    """The JSON a receiver gets for a stock event (Standard Webhooks' type/timestamp/data)."""
    return json.dumps(
        {
            "id": event_message_id(event.id),
            "type": event.type,
            "timestamp": _iso(event.created_at),
            "company_id": event.company_id,
            "data": event.data,
        },
        separators=(",", ":"),
    )


# Endpoints


def create_endpoint(
    *,
    company_id: int,
    url: str,
    events: list[str],
    description: str = "",
    is_active: bool = True,
    actor=None,
) -> WebhookEndpoint:
    now = timezone.now()
    return WebhookEndpoint.objects.create(
        company_id=company_id,
        url=url,
        events=events,
        description=description,
        is_active=is_active,
        secret=signing.new_secret(),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )


def update_endpoint(endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if changes.get("is_active"):
        # Turned on again by hand: it starts afresh.
        endpoint.disabled_at = None
        endpoint.failing_since = None
    endpoint.updated_at = timezone.now()
    endpoint.save()
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """The endpoint and its deliveries (with their attempts) go."""
    endpoint.delete()


def rotate_secret(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the old one still signs (beside it) for WEBHOOK_SECRET_ROTATION_SECONDS."""
    now = timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(
            pk=endpoint.pk, company_id=endpoint.company_id
        )
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + timedelta(
            seconds=settings.WEBHOOK_SECRET_ROTATION_SECONDS
        )
        endpoint.secret = signing.new_secret()
        endpoint.updated_at = now
        endpoint.save()
    return endpoint


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > now:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]


# Dispatch


def _enqueue(deliveries: list[tuple[int, int]], run_after: datetime | None = None) -> None:
    """One delivery task for each of ``deliveries``, (company id, delivery id)."""
    from stockflow.notifications.tasks import deliver_webhook

    task = deliver_webhook if run_after is None else deliver_webhook.using(run_after=run_after)
    for company_id, delivery_id in deliveries:
        task.enqueue(company_id, delivery_id)


def _new_deliveries(
    endpoint_events: list[tuple[WebhookEndpoint, StockEvent]], now
) -> list[tuple[int, int]]:
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                company_id=event.company_id,
                endpoint=endpoint,
                event=event,
                event_type=event.type,
                message_id=event_message_id(event.id),
                payload=event_body(event),
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint, event in endpoint_events
        ]
    )
    return [(delivery.company_id, delivery.id) for delivery in deliveries]


def _claim_events(events: list[StockEvent], now: datetime) -> set[int]:
    """Mark ``events`` dispatched; return the ids this call marked (another worker may have
    marked some first: each is handed out once)."""
    table = DispatchedEvent._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(events))
    params: list = []
    adapt = connection.ops.adapt_datetimefield_value
    for event in events:
        params += [event.id, event.company_id, adapt(event.created_at), adapt(now)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (event_id, company_id, event_created_at, dispatched_at)"
            f" VALUES {rows} ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def dispatch_new_events(
    now: datetime | None = None, lookback: timedelta = DISPATCH_LOOKBACK
) -> int:
    """Hand the events of the last ``lookback`` not yet dispatched to the endpoints of their
    company (see the module docstring). Returns how many deliveries were created."""
    now = now or timezone.now()
    dispatched = DispatchedEvent.objects.filter(
        event_id=OuterRef("id"), company_id=OuterRef("company_id")
    )
    events = list(
        StockEvent.objects.filter(created_at__gte=now - lookback)
        .filter(~Exists(dispatched))
        .order_by("id")[:DISPATCH_BATCH]
    )
    if not events:
        return 0
    with transaction.atomic():
        claimed = _claim_events(events, now)
        events = [event for event in events if event.id in claimed]
        companies = sorted({event.company_id for event in events})
        endpoints = list(
            WebhookEndpoint.objects.filter(
                company_id__in=companies, is_active=True, disabled_at__isnull=True
            )
        )
        pairs = [
            (endpoint, event)
            for event in events
            for endpoint in endpoints
            if endpoint.company_id == event.company_id
            and endpoint.subscribes_to(event.type)
            # An endpoint gets the events from its creation on, not the history before.
            and endpoint.created_at <= event.created_at
        ]
        created = _new_deliveries(pairs, now) if pairs else []
        transaction.on_commit(partial(_enqueue, created))
    return len(created)


def send_ping(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A test event to one endpoint, delivered (and retried) like any other."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            company_id=endpoint.company_id,
            endpoint=endpoint,
            event_type=PING,
            message_id="",
            payload="",
            next_attempt_at=now,
            created_at=now,
        )
        delivery.message_id = f"ping_{delivery.id}"
        delivery.payload = json.dumps(
            {
                "id": delivery.message_id,
                "type": PING,
                "timestamp": _iso(now),
                "company_id": endpoint.company_id,
                "data": {"endpoint_id": endpoint.id},
            },
            separators=(",", ":"),
        )
        delivery.save(update_fields=["message_id", "payload"])
        transaction.on_commit(partial(_enqueue, [(delivery.company_id, delivery.id)]))
    return delivery


def retry_delivery(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, whatever its state (a delivered one is sent once more)."""
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk, company_id=delivery.company_id).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now, locked_until=None
        )
        transaction.on_commit(partial(_enqueue, [(delivery.company_id, delivery.pk)]))
    delivery.refresh_from_db()
    return delivery


# Attempts


def _claim_attempt(company_id: int, delivery_id: int, now: datetime) -> WebhookDelivery | None:
    """Lock the delivery if it is due and nobody holds it; take a lease; commit."""
    lease = timedelta(
        seconds=settings.WEBHOOK_TIMEOUT_SECONDS + settings.WEBHOOK_LEASE_MARGIN_SECONDS
    )
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(
                company_id=company_id,
                id=delivery_id,
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
            )
            .exclude(locked_until__gt=now)
            .first()
        )
        if delivery is None:
            return None
        delivery.attempt_count += 1
        delivery.locked_until = now + lease
        delivery.save(update_fields=["attempt_count", "locked_until"])
    return delivery


def next_retry_delay(attempt_count: int) -> float | None:
    """Seconds before the attempt after the ``attempt_count``-th (None: no attempt left)."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if attempt_count > len(schedule):
        return None
    return schedule[attempt_count - 1] * random.uniform(0.9, 1.1)


def attempt_delivery(company_id: int, delivery_id: int) -> str | None:
    """Make the next attempt of a company's delivery if it is due and free (see the module
    docstring); return its status afterwards, or None when there was nothing to do."""
    now = timezone.now()
    delivery = _claim_attempt(company_id, delivery_id, now)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.is_active or endpoint.disabled_at is not None:
        outcome = transport.Outcome(None, 0, "The endpoint is disabled.", "")
    else:
        timestamp = int(now.timestamp())
        headers = signing.headers(
            signing_secrets(endpoint, now), delivery.message_id, timestamp, delivery.payload
        )
        outcome = transport.post(endpoint.url, delivery.payload, headers)
    return _record_attempt(delivery, outcome, now)


def _record_attempt(
    delivery: WebhookDelivery, outcome: transport.Outcome, started: datetime
) -> str:
    finished = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            company_id=delivery.company_id,
            delivery=delivery,
            number=delivery.attempt_count,
            attempted_at=started,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            response_body=outcome.response_body,
        )
        changes: dict = {"locked_until": None}
        if outcome.ok:
            changes.update(status=DeliveryStatus.DELIVERED, delivered_at=finished)
        else:
            delay = next_retry_delay(delivery.attempt_count)
            if delay is None:
                changes["status"] = DeliveryStatus.FAILED
            else:
                changes["next_attempt_at"] = finished + timedelta(seconds=delay)
        WebhookDelivery.objects.filter(pk=delivery.pk, company_id=delivery.company_id).update(
            **changes
        )
        if delivery.event_type != PING:
            _note_endpoint_health(delivery.endpoint, outcome.ok, finished)
        if "next_attempt_at" in changes:
            transaction.on_commit(
                partial(
                    _enqueue,
                    [(delivery.company_id, delivery.pk)],
                    run_after=changes["next_attempt_at"],
                )
            )
    status = changes.get("status", DeliveryStatus.PENDING)
    metrics.WEBHOOK_DELIVERIES.labels(
        "delivered" if outcome.ok else ("retry" if status == DeliveryStatus.PENDING else "failed")
    ).inc()
    return status


def _note_endpoint_health(endpoint: WebhookEndpoint, ok: bool, now: datetime) -> None:
    """A success clears ``failing_since``; a failure sets it, and disables the endpoint
    (emailing its company's owners) once every attempt failed for a day."""
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk, company_id=endpoint.company_id)
    if ok:
        endpoints.filter(failing_since__isnull=False).update(failing_since=None)
        return
    endpoints.filter(failing_since__isnull=True).update(failing_since=now)
    limit = now - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    disabled = endpoints.filter(failing_since__lte=limit, disabled_at__isnull=True).update(
        disabled_at=now, is_active=False, updated_at=now
    )
    if disabled:
        transaction.on_commit(
            partial(_email_owners_endpoint_disabled, endpoint.pk, endpoint.company_id)
        )


def _email_owners_endpoint_disabled(endpoint_id: int, company_id: int) -> None:
    endpoint = WebhookEndpoint.objects.select_related("company").get(
        pk=endpoint_id, company_id=company_id
    )
    owners = list(
        Membership.objects.filter(company_id=company_id, role=Role.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if owners:
        send_mail(
            f"[StockFlow] Webhook endpoint disabled: {endpoint.url}",
            f"Every delivery to {endpoint.url} ({endpoint.description or 'no description'}) "
            f"of {endpoint.company.name} has failed since {_iso(endpoint.failing_since)}, so "
            "the endpoint was disabled. Fix the receiver, then turn it on again with "
            f'PATCH /api/webhooks/{endpoint.id} {{"is_active": true}}; failed deliveries '
            f"can be sent again with POST /api/webhook-deliveries/{{id}}/retry.\n",
            None,
            owners,
        )


def sweep_deliveries(now: datetime | None = None) -> int:
    """Enqueue the due deliveries nobody holds: their task was lost (a worker killed
    mid-attempt, a broker restarted). Returns how many."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .exclude(locked_until__gt=now)
        .order_by("next_attempt_at")
        .values_list("company_id", "id")[:1000]
    )
    _enqueue(due)
    return len(due)


def purge_dispatched_events(now: datetime | None = None) -> int:
    """The dispatch markers older than the dispatcher's look-back are no longer read."""
    now = now or timezone.now()
    limit = now - DISPATCH_LOOKBACK * 4
    return DispatchedEvent.objects.filter(event_created_at__lt=limit).delete()[0]


# Email preferences


def save_preferences(*, company_id: int, user, **values) -> NotificationPreference:
    """Create or update the caller's preferences in a company. Turning immediate alerts on
    starts them with the events that come after (not the company's history)."""
    with transaction.atomic():
        preference, _ = NotificationPreference.objects.select_for_update().get_or_create(
            company_id=company_id, user=user
        )
        turned_on = values.get("immediate") and not preference.immediate
        for name, value in values.items():
            setattr(preference, name, value)
        if turned_on:
            emails.start_from_now(preference)
        preference.updated_at = timezone.now()
        preference.save()
    return preference
