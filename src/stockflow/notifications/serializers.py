from __future__ import annotations

from rest_framework import serializers

from stockflow.catalog.serializers import company_id_field
from stockflow.inventory.models import StockEventType
from stockflow.notifications.models import MAX_URL_LENGTH, DeliveryAttempt, WebhookDelivery
from stockflow.notifications.urlcheck import ForbiddenUrl, resolve_allowed

EVENT_TYPES = [*StockEventType.values, "*"]


class WebhookEndpointInput(serializers.Serializer):
    company_id = company_id_field()
    url = serializers.CharField(
        max_length=MAX_URL_LENGTH,
        help_text="http(s) URL that receives a signed POST per event; not a private address.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        min_length=1,
        max_length=len(EVENT_TYPES),
        help_text='Event types to receive, or ["*"] for all.',
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        if self.partial:
            fields.pop("company_id")
        return fields

    def validate(self, attrs):
        if self.partial and "company_id" in self.initial_data:
            raise serializers.ValidationError({"company_id": ["Cannot be changed once created."]})
        return attrs

    def validate_url(self, value: str) -> str:
        value = value.strip()
        try:
            resolve_allowed(value, unresolved_ok=True)
        except ForbiddenUrl as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        return ["*"] if "*" in value else sorted(set(value))


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    company_id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    failing_since = serializers.DateTimeField(allow_null=True)
    disabled_at = serializers.DateTimeField(
        allow_null=True, help_text="Set when every attempt failed for a day."
    )
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then, the previous secret signs too (rotation)."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(help_text="whsec_…: shown only now; keep it.")


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = [
            "number",
            "attempted_at",
            "status_code",
            "duration_ms",
            "error",
            "response_body",
        ]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    endpoint_id = serializers.IntegerField()
    event_id = serializers.IntegerField(allow_null=True)
    attempts = DeliveryAttemptSerializer(many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "company_id",
            "endpoint_id",
            "event_id",
            "event_type",
            "message_id",
            "status",
            "attempt_count",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "attempts",
        ]


class NotificationPreferenceSerializer(serializers.Serializer):
    immediate = serializers.BooleanField(
        help_text="Email new stock.low / stock.out events, batched (see immediate_every_minutes)."
    )
    immediate_every_minutes = serializers.IntegerField(
        min_value=1, max_value=1440, help_text="At most one immediate email per this many minutes."
    )
    daily_digest = serializers.BooleanField(help_text="Email the low-stock report once a day.")
    digest_hour = serializers.IntegerField(
        min_value=0, max_value=23, help_text="Local hour of the digest (the company's time zone)."
    )
    company_id = serializers.IntegerField(read_only=True)
    timezone = serializers.CharField(read_only=True, source="company.timezone")
