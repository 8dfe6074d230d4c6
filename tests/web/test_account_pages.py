"""Password reset at the emailed link, and sign-up, on the web app."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client, override_settings

from stockflow.tenancy.models import Membership, Role
from tests.factories import PASSWORD
from tests.web.test_access import assert_app_error
from tests.web.test_invitation_pages import assert_inputs_labelled

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("account_emails_at_once")]

NEW_PASSWORD = "plum tree 4 orchard!"


def emailed_link() -> str:
    parts = urlsplit(re.search(r"https?://\S+", mail.outbox[-1].body).group(0))
    return f"{parts.path}?{parts.query}"


def main_of(response) -> str:
    return re.search(r"<main.*</main>", response.content.decode(), re.S).group(0)


def can_log_in(username: str, password: str) -> bool:
    response = Client().post("/login/", {"username": username, "password": password})
    return response.status_code == 302


def test_the_reset_request_answers_the_same_whether_the_email_has_an_account(tenant_a):
    user = tenant_a.users[Role.STAFF]
    page = Client().get("/password-reset")
    assert page.status_code == 200
    assert_inputs_labelled(page.content.decode())
    known = Client().post("/password-reset", {"email": user.email})
    unknown = Client().post("/password-reset", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert main_of(known) == main_of(unknown)
    assert "a link to reset its password is on its way" in known.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    bad = Client().post("/password-reset", {"email": "not-an-email"})
    assert "Enter a valid email address." in assert_app_error(bad, 400)


def test_the_emailed_link_sets_a_new_password_once(tenant_a):
    user = tenant_a.users[Role.STAFF]
    Client().post("/password-reset", {"email": user.email})
    link = emailed_link()
    assert link.startswith("/password-reset/confirm?uid=")
    browser = Client()
    html = browser.get(link).content.decode()
    assert_inputs_labelled(html)
    fields = dict(re.findall(r'name="(uid|token)" value="([^"]+)"', html))
    weak = browser.post(link, {**fields, "new_password": "123"})
    assert "This password is too short." in assert_app_error(weak, 400)
    response = browser.post(link, {**fields, "new_password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert can_log_in(user.username, NEW_PASSWORD) and not can_log_in(user.username, PASSWORD)
    again = browser.post(link, {**fields, "new_password": "another fine 9 password"})
    assert "This reset link is not valid or has expired." in assert_app_error(again, 400)


def test_sign_up_creates_a_company_and_signs_in(db):
    assert 'href="/signup"' in Client().get("/login/").content.decode()
    browser = Client()
    html = browser.get("/signup").content.decode()
    assert_inputs_labelled(html)
    data = {
        "username": "founder",
        "email": "founder@example.com",
        "password": NEW_PASSWORD,
        "company_name": "Founder Goods",
    }
    weak = browser.post("/signup", {**data, "password": "founder"})
    assert "password is too similar" in assert_app_error(weak, 400).lower()
    response = browser.post("/signup", data)
    membership = Membership.objects.get(user__username="founder")
    assert membership.role == Role.OWNER and membership.company.name == "Founder Goods"
    assert response["Location"] == f"/c/{membership.company_id}/"
    assert browser.get(response["Location"]).status_code == 200
    taken = Client().post("/signup", data)
    assert "A user with that username already exists." in assert_app_error(taken, 400)


@override_settings(STOCKFLOW_SIGNUP=False)
def test_sign_up_turned_off_is_the_404_page(db):
    assert_app_error(Client().get("/signup"), 404)
    assert_app_error(Client().post("/signup", {"username": "x"}), 404)
    assert 'href="/signup"' not in Client().get("/login/").content.decode()
