"""Self-service sign-up, password reset by email, password change."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from stockflow.api.throttling import AccountRateThrottle
from stockflow.tenancy.models import Company, Membership, Role
from tests.factories import PASSWORD, assert_error, client_for, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()
STRONG = "walnut 7 cabinet door"


def sign_up(**changes):
    body = {
        "username": "founder",
        "email": "founder@example.com",
        "password": STRONG,
        "company_name": "Founder Goods",
        **changes,
    }
    return APIClient().post("/api/signup", body, format="json")


def login(username: str, password: str):
    return APIClient().post(
        "/api/auth/token", {"username": username, "password": password}, format="json"
    )


def test_sign_up_creates_a_user_a_company_and_an_owner_membership():
    response = sign_up()
    assert response.status_code == 201, response.content
    body = response.json()
    membership = Membership.objects.get(user__username="founder")
    assert membership.role == Role.OWNER and membership.company.name == "Founder Goods"
    assert body["company_id"] == membership.company_id and body["role"] == "owner"
    assert login("founder", STRONG).status_code == 201


def test_sign_up_with_a_taken_username_or_a_weak_password_is_refused(tenant_a):
    counts = (User.objects.count(), Company.objects.count())
    error = assert_error(
        sign_up(username=tenant_a.users[Role.OWNER].username), 400, "validation_error"
    )
    assert "username" in error["fields"]
    for weak in ("password", "12345678901", "short", "founder-example"):
        error = assert_error(sign_up(password=weak), 400, "validation_error")
        assert "password" in error["fields"], weak
    error = assert_error(sign_up(email="nope"), 400, "validation_error")
    assert "email" in error["fields"]
    assert (User.objects.count(), Company.objects.count()) == counts


def test_sign_up_with_an_email_already_used_looks_like_any_other(tenant_a):
    taken = sign_up(username="one", email=tenant_a.users[Role.OWNER].email)
    fresh = sign_up(username="two", email="fresh@example.com")
    assert taken.status_code == fresh.status_code == 201
    hidden = {"user_id", "username", "company_id"}
    bodies = [{k: v for k, v in r.json().items() if k not in hidden} for r in (taken, fresh)]
    assert bodies[0] == bodies[1]


def test_sign_up_can_be_turned_off(settings):
    settings.STOCKFLOW_SIGNUP = False
    assert_error(sign_up(), 403, "signup_disabled")
    assert not User.objects.filter(username="founder").exists()


def test_sign_up_is_throttled(monkeypatch):
    monkeypatch.setattr(AccountRateThrottle, "rate", "2/hour", raising=False)
    assert sign_up(username="a1").status_code == 201
    assert sign_up(username="a2").status_code == 201
    response = sign_up(username="a3")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert not User.objects.filter(username="a3").exists()


def reset_link() -> tuple[str, str]:
    match = re.search(r"uid=([\w-]+)&token=([\w-]+)", mail.outbox[-1].body)
    return match.group(1), match.group(2)


def test_password_reset_by_email():
    user = make_user("forgetful")
    response = APIClient().post("/api/password-reset", {"email": user.email}, format="json")
    assert response.status_code == 202
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    uid, token = reset_link()
    confirm = APIClient().post(
        "/api/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": STRONG},
        format="json",
    )
    assert confirm.status_code == 204, confirm.content
    assert login("forgetful", STRONG).status_code == 201
    assert_error(login("forgetful", PASSWORD), 401, "authentication_failed")
    # The link worked once: the password it was made for changed.
    again = APIClient().post(
        "/api/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": "another " + STRONG},
        format="json",
    )
    assert "token" in assert_error(again, 400, "validation_error")["fields"]


def test_password_reset_does_not_tell_whether_the_email_has_an_account():
    user = make_user("known")
    known = APIClient().post("/api/password-reset", {"email": user.email}, format="json")
    unknown = APIClient().post("/api/password-reset", {"email": "ghost@example.com"}, format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert len(mail.outbox) == 1


def test_password_reset_refuses_a_bad_link_and_a_weak_password():
    user = make_user("resetter")
    APIClient().post("/api/password-reset", {"email": user.email}, format="json")
    uid, token = reset_link()
    for body, field in [
        ({"uid": uid, "token": "1-abc", "new_password": STRONG}, "token"),
        ({"uid": "zzzz", "token": token, "new_password": STRONG}, "token"),
        ({"uid": uid, "token": token, "new_password": "password"}, "new_password"),
        ({"uid": uid, "token": token}, "new_password"),
    ]:
        response = APIClient().post("/api/password-reset/confirm", body, format="json")
        assert field in assert_error(response, 400, "validation_error")["fields"], body
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change():
    user = make_user("changer")
    client = client_for(user)
    wrong = client.post(
        "/api/me/password", {"current_password": "nope", "new_password": STRONG}, format="json"
    )
    assert "current_password" in assert_error(wrong, 400, "validation_error")["fields"]
    weak = client.post(
        "/api/me/password",
        {"current_password": PASSWORD, "new_password": "changer1"},
        format="json",
    )
    assert "new_password" in assert_error(weak, 400, "validation_error")["fields"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # Spaces are part of the password, never trimmed.
    spaced = f" {STRONG} "
    ok = client.post(
        "/api/me/password", {"current_password": PASSWORD, "new_password": spaced}, format="json"
    )
    assert ok.status_code == 204, ok.content
    assert login("changer", spaced).status_code == 201
    assert_error(login("changer", STRONG), 401, "authentication_failed")
    assert_error(APIClient().post("/api/me/password", {}, format="json"), 401, "not_authenticated")


def test_a_password_change_in_the_browser_keeps_its_session_and_ends_the_others():
    user = make_user("browser")
    this, other = APIClient(), APIClient()
    assert this.login(username="browser", password=PASSWORD)
    assert other.login(username="browser", password=PASSWORD)
    response = this.post(
        "/api/me/password", {"current_password": PASSWORD, "new_password": STRONG}, format="json"
    )
    assert response.status_code == 204, response.content
    assert this.get("/api/me").status_code == 200
    assert_error(other.get("/api/me"), 401, "not_authenticated")
    user.refresh_from_db()
    assert user.check_password(STRONG)
