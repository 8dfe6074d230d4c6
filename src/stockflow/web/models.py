from __future__ import annotations

from django.conf import settings
from django.db import models

from stockflow.tenancy.models import Company


class UserPreference(models.Model):
    """What the web app remembers of a user between sessions: the company last chosen in
    the company switcher (null: none chosen yet, or the company is gone)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="web_preference"
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.user_id} → {self.company_id}"
