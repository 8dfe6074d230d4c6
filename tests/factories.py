"""Test data builders and assertions shared by the whole suite."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from stockflow.accounts.models import Invitation
from stockflow.accounts.services import hash_invitation_token
from stockflow.tenancy.models import Company, Membership, Role
from stockflow.tenancy.services import issue_token

PASSWORD = "correct-horse-battery-staple"
_seq = count(1)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def make_user(username: str | None = None, **extra):
    username = username or f"user{next(_seq)}"
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.com", **extra
    )


def client_for(user, token: str | None = None) -> APIClient:
    client = APIClient()
    if token is None:
        _, token = issue_token(user=user, name="test")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@dataclass
class Tenant:
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
    company = Company.objects.create(name=name or f"Company {next(_seq)}")
    tenant = Tenant(company=company)
    for role in Role:
        user = make_user(f"{role.value}{next(_seq)}")
        Membership.objects.create(user=user, company=company, role=role)
        tenant.users[role] = user
        tenant.clients[role] = client_for(user)
    return tenant


def make_invitation(company: Company, role: str = Role.VIEWER, email: str = "") -> Invitation:
    """A pending invitation; its clear token (normally only in the email) is ``.token``."""
    n = next(_seq)
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


def assert_error(response, status: int, code: str) -> dict:
    """Every error under /api/ has the one JSON shape."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]
