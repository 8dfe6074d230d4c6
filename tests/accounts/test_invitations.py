"""Invitations: owners and admins invite by email with a role; the link works once, for 7
days, and is stored only as a hash."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from stockflow.accounts.models import Invitation
from stockflow.accounts.services import hash_invitation_token
from stockflow.tenancy.models import Membership, Role
from tests.factories import PASSWORD, assert_error, client_for, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "plum tree 4 orchard!"


def invitations(tenant) -> str:
    return f"/api/companies/{tenant.company.pk}/invitations"


def invite(tenant, email="new.person@example.com", role="staff", client=None):
    return (client or tenant.owner).post(
        invitations(tenant), {"email": email, "role": role}, format="json"
    )


def token_of_last_email() -> str:
    return re.search(r"inv_[\w-]+", mail.outbox[-1].body).group(0)


def accept(token: str, client=None, **account):
    return (client or APIClient()).post(
        "/api/invitations/accept", {"token": token, **account}, format="json"
    )


def test_an_invited_person_without_an_account_joins_with_a_new_one(tenant_a):
    response = invite(tenant_a)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["role"] == "staff"
    assert "token" not in body
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@example.com"]
    token = token_of_last_email()
    invitation = Invitation.objects.get(pk=body["id"])
    # Stored hashed, never in clear.
    assert invitation.token_hash == hash_invitation_token(token)
    assert token not in str(Invitation.objects.filter(pk=body["id"]).values().first())
    expires_in = invitation.expires_at - timezone.now()
    assert timedelta(days=6, hours=23) < expires_in <= timedelta(days=7)

    response = accept(token, username="newperson", password=NEW_PASSWORD)
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "staff"
    membership = Membership.objects.get(company=tenant_a.company, user__username="newperson")
    assert membership.role == Role.STAFF and membership.user.email == "new.person@example.com"
    login = APIClient().post(
        "/api/auth/token", {"username": "newperson", "password": NEW_PASSWORD}, format="json"
    )
    assert login.status_code == 201
    listed = tenant_a.owner.get(invitations(tenant_a)).json()["results"]
    assert [row["status"] for row in listed] == ["accepted"]


def test_a_signed_in_user_joins_with_their_own_account(tenant_a):
    user = make_user()
    invite(tenant_a, email=user.email, role="viewer")
    response = accept(token_of_last_email(), client=client_for(user))
    assert response.status_code == 201, response.content
    assert Membership.objects.get(company=tenant_a.company, user=user).role == Role.VIEWER


def test_the_link_works_once(tenant_a):
    invite(tenant_a)
    token = token_of_last_email()
    assert accept(token, username="first", password=NEW_PASSWORD).status_code == 201
    error = assert_error(
        accept(token, username="second", password=NEW_PASSWORD), 400, "validation_error"
    )
    assert "used" in error["fields"]["token"][0]
    assert not Membership.objects.filter(user__username="second").exists()


def test_an_expired_link_is_refused(tenant_a):
    invite(tenant_a)
    token = token_of_last_email()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    error = assert_error(
        accept(token, username="late", password=NEW_PASSWORD), 400, "validation_error"
    )
    assert "expired" in error["fields"]["token"][0]
    assert Membership.objects.filter(company=tenant_a.company).count() == 4


def test_a_revoked_link_and_an_unknown_token_are_refused(tenant_a):
    invitation_id = invite(tenant_a).json()["id"]
    token = token_of_last_email()
    assert tenant_a.owner.delete(f"{invitations(tenant_a)}/{invitation_id}").status_code == 204
    error = assert_error(
        accept(token, username="x1", password=NEW_PASSWORD), 400, "validation_error"
    )
    assert "revoked" in error["fields"]["token"][0]
    error = assert_error(
        accept("inv_" + "A" * 43, username="x2", password=NEW_PASSWORD), 400, "validation_error"
    )
    assert "token" in error["fields"]
    # Revoking twice: the invitation is not pending any more.
    again = tenant_a.owner.delete(f"{invitations(tenant_a)}/{invitation_id}")
    assert_error(again, 409, "invitation_revoked")


def test_resend_replaces_the_link_and_restarts_the_clock(tenant_a):
    invitation_id = invite(tenant_a).json()["id"]
    old_token = token_of_last_email()
    Invitation.objects.update(expires_at=timezone.now() + timedelta(hours=1))
    response = tenant_a.owner.post(f"{invitations(tenant_a)}/{invitation_id}/resend")
    assert response.status_code == 200, response.content
    assert len(mail.outbox) == 2
    new_token = token_of_last_email()
    assert new_token != old_token
    assert Invitation.objects.get().expires_at > timezone.now() + timedelta(days=6)
    assert_error(accept(old_token, username="x", password=NEW_PASSWORD), 400, "validation_error")
    assert accept(new_token, username="y", password=NEW_PASSWORD).status_code == 201


def test_a_role_above_the_inviters_is_refused(tenant_a):
    error = assert_error(
        invite(tenant_a, role="owner", client=tenant_a.admin), 400, "validation_error"
    )
    assert "role" in error["fields"]
    assert not Invitation.objects.exists() and not mail.outbox
    # An admin may invite an admin; an owner may invite an owner.
    assert invite(tenant_a, role="admin", client=tenant_a.admin).status_code == 201
    assert invite(tenant_a, email="o@example.com", role="owner").status_code == 201


@pytest.mark.parametrize("email", ["not-an-email", "", "a@b@c.com", "x" * 250 + "@example.com"])
def test_an_invalid_email_is_refused(tenant_a, email):
    error = assert_error(invite(tenant_a, email=email), 400, "validation_error")
    assert "email" in error["fields"]
    assert not Invitation.objects.exists() and not mail.outbox


def test_staff_and_viewers_cannot_invite_or_list(tenant_a):
    for role in (Role.STAFF, Role.VIEWER):
        client = tenant_a.clients[role]
        assert_error(invite(tenant_a, client=client, role="viewer"), 403, "permission_denied")
        assert_error(client.get(invitations(tenant_a)), 403, "permission_denied")
    assert not Invitation.objects.exists()


def test_another_companys_invitation_is_not_found(tenant_a, tenant_b):
    invitation_id = invite(tenant_b).json()["id"]
    before = list(Invitation.objects.values())
    for path in (
        f"{invitations(tenant_a)}/{invitation_id}",
        f"{invitations(tenant_b)}/{invitation_id}",
    ):
        assert_error(tenant_a.owner.get(path), 404, "not_found")
        assert_error(tenant_a.owner.delete(path), 404, "not_found")
        assert_error(tenant_a.owner.post(f"{path}/resend"), 404, "not_found")
    assert_error(invite(tenant_b, client=tenant_a.owner), 404, "not_found")
    assert list(Invitation.objects.values()) == before and len(mail.outbox) == 1


def test_the_answer_does_not_tell_whether_the_email_has_an_account(tenant_a):
    make_user("existing")  # existing@example.com
    answers = [
        invite(tenant_a, email=email) for email in ("existing@example.com", "nobody@example.com")
    ]
    assert [a.status_code for a in answers] == [201, 201]
    shapes = [
        {
            k: v
            for k, v in a.json().items()
            if k not in {"id", "email", "created_at", "sent_at", "expires_at"}
        }
        for a in answers
    ]
    assert shapes[0] == shapes[1]


def test_a_second_pending_invitation_for_the_same_email_is_a_conflict(tenant_a):
    invite(tenant_a, email="Same@Example.com")
    assert_error(invite(tenant_a, email="same@example.com"), 409, "invitation_pending")
    # Once the first expired, a new one may be sent.
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert invite(tenant_a, email="same@example.com").status_code == 201


def test_accepting_into_a_company_one_belongs_to_already_is_a_conflict(tenant_a):
    member = tenant_a.users[Role.VIEWER]
    invite(tenant_a, email=member.email, role="admin")
    response = accept(token_of_last_email(), client=tenant_a.viewer)
    assert_error(response, 409, "already_member")
    assert Membership.objects.get(company=tenant_a.company, user=member).role == Role.VIEWER
    assert Invitation.objects.get().accepted_at is None


def test_a_new_account_needs_a_free_username_and_a_strong_password(tenant_a):
    invite(tenant_a)
    token = token_of_last_email()
    taken = tenant_a.users[Role.OWNER].username
    error = assert_error(
        accept(token, username=taken, password=NEW_PASSWORD), 400, "validation_error"
    )
    assert "username" in error["fields"]
    error = assert_error(
        accept(token, username="fresh", password="password"), 400, "validation_error"
    )
    assert "password" in error["fields"]
    error = assert_error(accept(token), 400, "validation_error")
    assert {"username", "password"} <= set(error["fields"])
    assert Invitation.objects.get().accepted_at is None
    assert accept(token, username="fresh", password=NEW_PASSWORD).status_code == 201


def test_login_uses_the_password_exactly_as_typed(db):
    user = make_user("spaced")
    user.set_password("  spaces around  ")
    user.save()
    client = APIClient()
    ok = client.post(
        "/api/auth/token", {"username": "spaced", "password": "  spaces around  "}, format="json"
    )
    assert ok.status_code == 201, ok.content
    trimmed = client.post(
        "/api/auth/token", {"username": "spaced", "password": "spaces around"}, format="json"
    )
    assert_error(trimmed, 401, "authentication_failed")
    assert PASSWORD  # the factory's password has no surrounding spaces
