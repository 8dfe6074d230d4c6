"""Webhook endpoints, their deliveries and every attempt; which events were handed out; the
worker's periodic jobs. Every tenant table carries ``company_id``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from stockflow.inventory.models import StockEvent
from stockflow.tenancy.keys import TenantForeignKey, TenantModel
from stockflow.tenancy.models import Company

MAX_URL_LENGTH = 2000


class WebhookEndpoint(TenantModel):
    """A URL that receives the company's events of the subscribed ``events`` types (``["*"]``:
    all). ``secret`` signs deliveries; after a rotation, ``previous_secret`` signs them too
    until ``previous_secret_expires_at``. ``failing_since``: the first failed attempt since
    the last success (null while it succeeds); ``disabled_at``: set when it failed for a day."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    url = models.URLField(max_length=MAX_URL_LENGTH)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["company", "id"], name="webhook_endpoint_company")]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (no attempt left)"


class WebhookDelivery(TenantModel):
    """One event (or a ping) to one endpoint: the exact body, sent identically on every
    attempt with the same ``message_id`` (the ``webhook-id`` header). A worker claims it by
    setting ``locked_until`` (row locked ``SKIP LOCKED`` meanwhile), so two workers never make
    the same attempt; a worker killed mid-attempt leaves the lease to expire, and the
    delivery is attempted again."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    endpoint = TenantForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = TenantForeignKey(
        StockEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event_type = models.CharField(max_length=40)
    message_id = models.CharField(max_length=64)
    payload = models.TextField()
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "endpoint", "event"],
                condition=Q(event__isnull=False),
                name="webhook_delivery_one_per_event",
            )
        ]
        indexes = [
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → endpoint {self.endpoint_id}"


class DeliveryAttempt(TenantModel):
    """One HTTP request of a delivery: its outcome, as the receiver answered."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    delivery = TenantForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    response_body = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["delivery", "id"], name="delivery_attempt_delivery")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.status_code}"


class DispatchedEvent(TenantModel):
    """A stock event handed out to the company's endpoints (its deliveries were created):
    the worker's outbox marker. ``event_created_at`` bounds the search for new events."""

    event = models.OneToOneField(
        StockEvent, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["event_created_at"], name="dispatched_event_created")]

    def __str__(self) -> str:
        return f"event {self.event_id} dispatched at {self.dispatched_at}"


class ScheduledJob(models.Model):
    """When each periodic job of the worker runs next: whichever worker moves
    ``next_run_at`` forward first enqueues the run (not a tenant table)."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.next_run_at}"


class NotificationPreference(TenantModel):
    """How one member of one company wants to be emailed.

    ``immediate``: at most one email every ``immediate_every_minutes``, listing every new
    ``stock.low``/``stock.out`` since the last one (``last_event_id`` is the last event
    emailed). ``daily_digest``: the low-stock report once a day, at ``digest_hour`` in the
    company's time zone (``last_digest_on``: the local date of the last one)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    immediate = models.BooleanField(default=False)
    immediate_every_minutes = models.PositiveIntegerField(default=15)
    daily_digest = models.BooleanField(default=False)
    digest_hour = models.PositiveSmallIntegerField(default=8)
    last_event_id = models.BigIntegerField(default=0)
    last_immediate_at = models.DateTimeField(null=True, blank=True)
    last_digest_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "user"], name="notification_preference_one_per_member"
            ),
            models.CheckConstraint(
                condition=Q(digest_hour__lte=23), name="notification_preference_hour"
            ),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} in company {self.company_id}"
