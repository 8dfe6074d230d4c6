"""Writes of the web app's own data."""

from __future__ import annotations

from django.db import transaction

from stockflow.web.models import UserPreference


@transaction.atomic
def remember_company(user, company_id: int) -> None:
    """Remember the company the user chose in the switcher (the caller checked membership)."""
    UserPreference.objects.update_or_create(user=user, defaults={"company_id": company_id})
