from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    STAFF = "staff", "Staff"
    VIEWER = "viewer", "Viewer"


# What each role may do is decided by rank: a role may do everything a lower one may.
ROLE_RANK: dict[str, int] = {Role.VIEWER: 0, Role.STAFF: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Company(models.Model):
    """A tenant. Every tenant-owned table carries a ``company`` foreign key."""

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # (after created_at: in the class body this name hides django.utils.timezone)
    #: IANA time zone name: when "daily" happens for the company (email digests)
    timezone = models.CharField(max_length=64, default="UTC")

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.company} as {self.role}"


class ApiToken(models.Model):
    """An API token. Only its public prefix and a SHA-256 of the whole token are stored.

    Tokens carry 256 bits of randomness, so a fast hash is enough: there is nothing to
    brute-force, and the check stays cheap on every request.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
