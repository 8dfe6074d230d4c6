"""Read queries of webhooks and their deliveries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from stockflow.notifications.models import (
    DeliveryAttempt,
    NotificationPreference,
    WebhookDelivery,
)
from stockflow.tenancy.models import Company


def deliveries_with_attempts(queryset, company_ids: list[int]) -> QuerySet[WebhookDelivery]:
    """Deliveries with their attempts (one more query), both read within ``company_ids``."""
    attempts = DeliveryAttempt.objects.filter(company_id__in=company_ids).order_by("id")
    return queryset.filter(company_id__in=company_ids).prefetch_related(
        Prefetch("attempts", queryset=attempts)
    )


def preference_of(company_id: int, user, company: Company | None = None) -> NotificationPreference:
    """The member's email preferences in a company, with its company; the defaults (not
    stored) until the member changes them."""
    preference = (
        NotificationPreference.objects.select_related("company")
        .filter(company_id=company_id, user=user)
        .first()
    )
    if preference is None:
        preference = NotificationPreference(company_id=company_id, user=user)
        preference.company = company or Company.objects.get(pk=company_id)
    return preference
