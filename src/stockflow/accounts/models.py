from __future__ import annotations

import hashlib
from base64 import urlsafe_b64encode
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from stockflow.tenancy.keys import TenantModel
from stockflow.tenancy.models import Company, Role

INVITATION_DAYS = 7
INVITATION_TOKEN_PREFIX = "inv_"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Invitation(TenantModel):
    """An invitation to join a company with a role, sent by email as a one-time link.

    Only the SHA-256 of the link's token is stored (the token is 256 bits no one can guess
    without SECRET_KEY, so a fast hash is enough). It is pending until accepted, revoked or expired; at most one
    pending invitation per company and email address."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                "company",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="invitation_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["company", "id"], name="invitation_company_idx")]

    def __str__(self) -> str:
        return f"{self.email} to {self.company_id} as {self.role}"

    def link_token(self) -> str:
        """The token of the link sent at ``sent_at``: an HMAC of the invitation under
        SECRET_KEY (as Django's password reset tokens are), so the worker that writes the
        email makes it again from the row: the token is neither stored nor queued in clear.
        A resend (a new ``sent_at``) makes a new one."""
        sent = (self.sent_at - _EPOCH) // timedelta(microseconds=1)
        digest = salted_hmac(
            "stockflow.accounts.Invitation",
            f"{self.company_id}:{self.email}:{sent}",
            algorithm="sha256",
        ).digest()
        return INVITATION_TOKEN_PREFIX + urlsafe_b64encode(digest).rstrip(b"=").decode()

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
