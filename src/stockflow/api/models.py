from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from stockflow.tenancy.keys import TenantModel
from stockflow.tenancy.models import Company


class IdempotencyKey(TenantModel):
    """A claimed ``Idempotency-Key`` and the first response given for it."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.company_id}:{self.key}"
