from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from stockflow.tenancy.keys import TenantModel
from stockflow.tenancy.models import Company


class ImportKind(models.TextChoices):
    PRODUCTS = "products", "Products with opening stock"
    SUPPLIERS = "suppliers", "Suppliers"
    PRODUCT_SUPPLIERS = "product_suppliers", "Product-supplier links"
    STOCK_COUNTS = "stock_counts", "Stock counts"
    SALES = "sales", "Sales history"


class ImportStatus(models.TextChoices):
    VALIDATING = "validating", "Validating"
    VALID = "valid", "Valid: ready to apply"
    INVALID = "invalid", "Invalid: see the errors"
    APPLYING = "applying", "Applying"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed while applying: nothing was written"


class ImportJob(TenantModel):
    """One uploaded file of one kind, validated (a dry run) and then applied, all or nothing.

    The file itself is kept (``content``) until the job is applied or refused, so the worker
    reads it; ``content_hash`` (SHA-256) recognises the same file uploaded again. ``errors``
    holds every error found, each ``{"row", "column", "code", "message"}``."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.VALIDATING
    )
    file_name = models.CharField(max_length=255, blank=True)
    content_hash = models.CharField(max_length=64)
    content = models.BinaryField(editable=False)
    apply_when_valid = models.BooleanField(default=False)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "content_hash"], name="import_job_one_per_file"
            ),
        ]

    def __str__(self) -> str:
        return f"import {self.kind} #{self.pk} ({self.status})"
