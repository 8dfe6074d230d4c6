from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from stockflow.tenancy.models import ApiToken
from stockflow.tenancy.services import issue_token
from tests.factories import PASSWORD, assert_error, make_user

pytestmark = pytest.mark.django_db


def obtain(client: APIClient, username: str, password: str = PASSWORD, **extra):
    return client.post(
        "/api/auth/token", {"username": username, "password": password, **extra}, format="json"
    )


def test_token_is_shown_once_and_authenticates(anon):
    user = make_user("alice")
    response = obtain(anon, "alice", name="laptop", expires_in_days=30)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith("sf_")
    assert body["name"] == "laptop"
    assert body["expires_at"] is not None

    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    me = anon.get("/api/me")
    assert me.status_code == 200
    assert me.json()["username"] == user.username

    listed = anon.get("/api/auth/tokens").json()["results"]
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0] and "token_hash" not in listed[0]


def test_wrong_password_is_401(anon):
    make_user("bob")
    assert_error(obtain(anon, "bob", "wrong"), 401, "authentication_failed")
    assert ApiToken.objects.count() == 0


def test_tokens_are_stored_hashed_not_in_clear():
    user = make_user()
    _, clear = issue_token(user=user)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        rows = cursor.fetchall()
    assert len(rows) == 1
    secret = clear.split("_", 2)[2]
    for value in rows[0]:
        assert secret not in str(value)
        assert str(value) != clear
    stored = ApiToken.objects.get()
    assert clear.startswith(f"sf_{stored.prefix}_")
    assert len(stored.token_hash) == 64


def test_revoked_token_is_401():
    user = make_user()
    api_token, clear = issue_token(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert client.get("/api/me").status_code == 200
    assert client.delete(f"/api/auth/tokens/{api_token.pk}").status_code == 204
    api_token.refresh_from_db()
    assert api_token.revoked_at is not None
    assert_error(client.get("/api/me"), 401, "authentication_failed")


def test_expired_token_is_401():
    user = make_user()
    _, clear = issue_token(user=user, expires_at=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clear}")
    error = assert_error(client.get("/api/me"), 401, "authentication_failed")
    assert "expired" in error["message"]


def test_tampered_token_is_401():
    user = make_user()
    _, clear = issue_token(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clear[:-2]}xx")
    assert_error(client.get("/api/me"), 401, "authentication_failed")
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error(client.get("/api/me"), 401, "authentication_failed")


def test_no_credentials_is_401_with_challenge(anon):
    response = anon.get("/api/companies")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_cannot_revoke_someone_elses_token():
    owner = make_user()
    other = make_user()
    api_token, _ = issue_token(user=owner)
    _, other_clear = issue_token(user=other)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_clear}")
    assert_error(client.delete(f"/api/auth/tokens/{api_token.pk}"), 404, "not_found")
    api_token.refresh_from_db()
    assert api_token.revoked_at is None


def test_session_login_works_for_the_browsable_api(client):
    make_user("carol")
    assert client.login(username="carol", password=PASSWORD)
    response = client.get("/api/me", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["username"] == "carol"


def test_failed_logins_are_rate_limited(anon):
    make_user("dave")
    statuses = [obtain(anon, "dave", "wrong").status_code for _ in range(12)]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    assert_error(obtain(anon, "dave", "wrong"), 429, "throttled")
