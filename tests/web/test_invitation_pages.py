"""Settings → Invitations (owners and admins) and the page the invitation email links to."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from stockflow.accounts.models import Invitation
from stockflow.tenancy.models import Membership, Role
from tests.factories import make_user
from tests.factories.clients import logged_in
from tests.web.test_access import assert_app_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("account_emails_at_once")]

NEW_PASSWORD = "plum tree 4 orchard!"


def invitations_url(tenant) -> str:
    return f"/c/{tenant.company.pk}/settings/invitations/"


def emailed_link() -> str:
    """The path and query of the link in the last email (what a person opens)."""
    url = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def assert_inputs_labelled(html: str) -> None:
    for input_id in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html):
        assert f'<label for="{input_id}"' in html, input_id


def invite(client, tenant, email="new.person@example.com", role="staff"):
    return client.post(invitations_url(tenant), {"action": "invite", "email": email, "role": role})


def test_an_owner_invites_and_sees_the_pending_invitation(tenant_a, pages):
    response = invite(pages[Role.OWNER], tenant_a)
    assert response.status_code == 302
    invitation = Invitation.objects.get(company=tenant_a.company)
    assert (invitation.email, invitation.role, invitation.status) == (
        "new.person@example.com",
        "staff",
        "pending",
    )
    assert mail.outbox[-1].to == ["new.person@example.com"]
    assert emailed_link().startswith("/invitations/accept?token=inv_")
    html = pages[Role.OWNER].get(invitations_url(tenant_a)).content.decode()
    assert "new.person@example.com" in html and "Resend" in html and "Revoke" in html
    assert_inputs_labelled(html)


def test_the_list_page_has_a_fixed_number_of_queries(
    tenant_a, pages, django_assert_max_num_queries
):
    for n in range(6):
        invite(pages[Role.ADMIN], tenant_a, email=f"person{n}@example.com")
    with django_assert_max_num_queries(15):
        response = pages[Role.ADMIN].get(invitations_url(tenant_a))
    assert response.content.decode().count('name="invitation_id"') == 6


def test_the_apis_rules_answer_on_the_form(tenant_a, pages):
    response = invite(pages[Role.ADMIN], tenant_a, role="owner")
    html = assert_app_error(response, 400)
    assert "You cannot invite with a role above your own (admin)." in html
    response = invite(pages[Role.ADMIN], tenant_a, email="not-an-email")
    assert "Enter a valid email address." in assert_app_error(response, 400)
    invite(pages[Role.OWNER], tenant_a)
    response = invite(pages[Role.OWNER], tenant_a)
    assert "A pending invitation exists for this email" in assert_app_error(response, 400)
    assert Invitation.objects.count() == 1


def test_staff_and_viewers_get_403_also_for_a_forged_post(tenant_a, pages):
    for role in (Role.STAFF, Role.VIEWER):
        assert_app_error(pages[role].get(invitations_url(tenant_a)), 403)
        assert_app_error(invite(pages[role], tenant_a), 403)
    assert not Invitation.objects.exists() and not mail.outbox
    assert (
        "/settings/invitations/"
        not in pages[Role.VIEWER]
        .get(f"/c/{tenant_a.company.pk}/settings/members/")
        .content.decode()
    )


def test_resend_and_revoke_and_another_companys_invitation_is_404(tenant_a, tenant_b, pages):
    invite(pages[Role.OWNER], tenant_a)
    first_link = emailed_link()
    invitation = Invitation.objects.get()
    client = pages[Role.OWNER]
    url = invitations_url(tenant_a)
    assert client.post(url, {"action": "resend", "invitation_id": invitation.pk}).status_code == 302
    assert len(mail.outbox) == 2 and emailed_link() != first_link
    old_token = first_link.split("token=")[1]
    response = Client().post(
        first_link, {"token": old_token, "username": "newbie", "password": NEW_PASSWORD}
    )
    assert "This invitation link is not valid." in response.content.decode()

    foreign = logged_in(tenant_b.users[Role.OWNER])
    for action in ("resend", "revoke"):
        response = foreign.post(
            invitations_url(tenant_b), {"action": action, "invitation_id": invitation.pk}
        )
        assert_app_error(response, 404)
    assert_app_error(foreign.get(url), 404)
    assert len(mail.outbox) == 2

    assert client.post(url, {"action": "revoke", "invitation_id": invitation.pk}).status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert "No pending invitation." in client.get(url).content.decode()


def test_a_new_person_accepts_with_a_new_account_and_is_signed_in(tenant_a, pages):
    invite(pages[Role.OWNER], tenant_a, role="viewer")
    link = emailed_link()
    browser = Client()
    page = browser.get(link)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="id_username"' in html and 'type="password"' in html
    assert_inputs_labelled(html)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)

    weak = browser.post(link, {"token": token, "username": "newbie", "password": "123"})
    html = assert_app_error(weak, 400)
    assert "This password is too short." in html and "123" not in re.findall(
        r'value="([^"]*)"', html
    )

    response = browser.post(link, {"token": token, "username": "newbie", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == f"/c/{tenant_a.company.pk}/"
    membership = Membership.objects.get(user__username="newbie")
    assert membership.role == Role.VIEWER and membership.user.email == "new.person@example.com"
    assert browser.get(response["Location"]).status_code == 200  # signed in

    again = Client().post(link, {"token": token, "username": "other", "password": NEW_PASSWORD})
    assert "This invitation was used already." in assert_app_error(again, 400)


def test_a_signed_in_user_joins_with_the_link(tenant_a, tenant_b, pages):
    invite(pages[Role.OWNER], tenant_a, email="b.user@example.com", role="staff")
    link = emailed_link()
    user = tenant_b.users[Role.VIEWER]
    browser = logged_in(user)
    html = browser.get(link).content.decode()
    assert "Join the company" in html and 'id="id_username"' not in html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    response = browser.post(link, {"token": token})
    assert response["Location"] == f"/c/{tenant_a.company.pk}/"
    assert Membership.objects.get(user=user, company=tenant_a.company).role == Role.STAFF
    invite(pages[Role.OWNER], tenant_a, email="again@example.com")
    second = re.search(r"token=(\S+)", mail.outbox[-1].body).group(1)
    response = browser.post("/invitations/accept", {"token": second})
    assert "You are a member of this company already." in assert_app_error(response, 400)


def test_an_unknown_token_is_refused_on_the_page(db):
    make_user("someone")
    response = Client().post(
        "/invitations/accept",
        {"token": "inv_nothing", "username": "x1", "password": NEW_PASSWORD},
    )
    assert "This invitation link is not valid." in assert_app_error(response, 400)
