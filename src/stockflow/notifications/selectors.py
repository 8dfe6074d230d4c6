"""Read queries of webhooks and their deliveries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from stockflow.notifications.models import DeliveryAttempt, WebhookDelivery


def deliveries_with_attempts(queryset, company_ids: list[int]) -> QuerySet[WebhookDelivery]:
    """Deliveries with their attempts (one more query), both read within ``company_ids``."""
    attempts = DeliveryAttempt.objects.filter(company_id__in=company_ids).order_by("id")
    return queryset.filter(company_id__in=company_ids).prefetch_related(
        Prefetch("attempts", queryset=attempts)
    )
