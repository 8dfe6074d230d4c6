"""Companies, users and their roles, each role with its own authenticated client; pending
invitations to a company."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from stockflow.accounts.models import Invitation
from stockflow.accounts.services import hash_invitation_token
from stockflow.tenancy.models import Company, Membership, Role
from tests.factories.clients import APIClient, client_for
from tests.factories.sequence import next_number

PASSWORD = "correct-horse-battery-staple"


def make_user(username: str | None = None, **extra):
    username = username or f"user{next_number()}"
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.com", **extra
    )


@dataclass
class Tenant:
    """A company with one member of each role, and a client for each."""

    company: Company
    users: dict[str, object] = field(default_factory=dict)
    clients: dict[str, APIClient] = field(default_factory=dict)

    @property
    def owner(self) -> APIClient:
        return self.clients[Role.OWNER]

    @property
    def admin(self) -> APIClient:
        return self.clients[Role.ADMIN]

    @property
    def staff(self) -> APIClient:
        return self.clients[Role.STAFF]

    @property
    def viewer(self) -> APIClient:
        return self.clients[Role.VIEWER]


def make_tenant(name: str | None = None) -> Tenant:
    company = Company.objects.create(name=name or f"Company {next_number()}")
    tenant = Tenant(company=company)
    for role in Role:
        user = make_user(f"{role.value}{next_number()}")
        Membership.objects.create(user=user, company=company, role=role)
        tenant.users[role] = user
        tenant.clients[role] = client_for(user)
    return tenant


def make_invitation(company: Company, role: str = Role.VIEWER, email: str = "") -> Invitation:
    """A pending invitation; its clear token (normally only in the email) is ``.token``."""
    n = next_number()
    token = f"inv_test-token-{n}"
    invitation = Invitation.objects.create(
        company=company,
        email=email or f"invitee{n}@example.com",
        role=role,
        token_hash=hash_invitation_token(token),
        expires_at=timezone.now() + timedelta(days=7),
    )
    invitation.token = token
    return invitation
