from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from stockflow.tenancy.models import ApiToken
from stockflow.tenancy.services import issue_token
from tests.factories import PASSWORD, APIClient, assert_error, make_user

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


# --- the token statement: token, user and memberships at once, on every request -------------


def test_token_statement_loads_what_the_orm_loads():
    from django.contrib.auth import get_user_model

    from stockflow.tenancy.models import Company, Membership, Role
    from stockflow.tenancy.selectors import token_with_roles

    user = make_user()
    user.last_login = timezone.now()
    user.save()
    acme, globex = Company.objects.create(name="Acme"), Company.objects.create(name="Globex")
    Membership.objects.create(user=user, company=acme, role=Role.STAFF)
    Membership.objects.create(user=user, company=globex, role=Role.OWNER)
    api_token, _ = issue_token(user=user, expires_at=timezone.now() + timedelta(days=1))

    token, roles = token_with_roles(api_token.prefix)

    stored = ApiToken.objects.get(pk=api_token.pk)
    stored_user = get_user_model().objects.get(pk=user.pk)
    for field in ApiToken._meta.concrete_fields:
        assert getattr(token, field.attname) == getattr(stored, field.attname), field.name
    for field in get_user_model()._meta.concrete_fields:
        assert getattr(token.user, field.attname) == getattr(stored_user, field.attname), field
    assert timezone.is_aware(token.expires_at) and timezone.is_aware(token.user.last_login)
    assert roles == {acme.id: "staff", globex.id: "owner"}
    assert token_with_roles("nosuchprefix") is None


def test_a_user_without_company_has_no_roles_and_sees_none():
    from stockflow.tenancy.selectors import token_with_roles

    user = make_user()
    api_token, clear = issue_token(user=user)
    assert token_with_roles(api_token.prefix)[1] == {}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert client.get("/api/companies").json()["results"] == []


def test_memberships_come_with_the_token_in_one_statement(tenant_a, django_assert_max_num_queries):
    with django_assert_max_num_queries(3) as captured:
        response = tenant_a.staff.get("/api/warehouses")
    assert response.status_code == 200
    membership_reads = [q["sql"] for q in captured if "tenancy_membership" in q["sql"]]
    assert len(membership_reads) == 1
    assert "tenancy_apitoken" in membership_reads[0]


def test_inactive_user_is_401(tenant_a):
    user = tenant_a.users["staff"]
    assert tenant_a.staff.get("/api/me").status_code == 200
    user.is_active = False
    user.save()
    error = assert_error(tenant_a.staff.get("/api/me"), 401, "authentication_failed")
    assert "inactive" in error["message"]


def test_a_token_revoked_or_expiring_meanwhile_is_refused_on_the_next_request():
    from stockflow.tenancy.services import revoke_token

    user = make_user()
    api_token, clear = issue_token(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert client.get("/api/companies").status_code == 200
    ApiToken.objects.filter(pk=api_token.pk).update(expires_at=timezone.now())
    assert (
        "expired"
        in assert_error(client.get("/api/companies"), 401, "authentication_failed")["message"]
    )
    ApiToken.objects.filter(pk=api_token.pk).update(expires_at=None)
    assert client.get("/api/companies").status_code == 200
    revoke_token(api_token)
    assert (
        "revoked"
        in assert_error(client.get("/api/companies"), 401, "authentication_failed")["message"]
    )


def test_a_role_change_counts_from_the_next_request(tenant_a):
    from stockflow.tenancy.models import Membership, Role
    from stockflow.tenancy.services import change_member_role, remove_member

    company_id = tenant_a.company.id
    staff = tenant_a.users[Role.STAFF]
    membership = Membership.objects.get(user=staff, company=tenant_a.company)
    rename = f"/api/companies/{company_id}"
    members = f"/api/companies/{company_id}/members"

    assert tenant_a.staff.get(members).status_code == 200
    assert_error(
        tenant_a.staff.patch(rename, {"name": "X"}, format="json"), 403, "permission_denied"
    )

    change_member_role(membership, Role.ADMIN)
    assert tenant_a.staff.patch(rename, {"name": "Renamed"}, format="json").status_code == 200

    change_member_role(membership, Role.VIEWER)
    assert_error(
        tenant_a.staff.patch(rename, {"name": "X"}, format="json"), 403, "permission_denied"
    )

    remove_member(membership)
    assert_error(tenant_a.staff.get(rename), 404, "not_found")
    assert_error(tenant_a.staff.get(members), 404, "not_found")
    assert tenant_a.staff.get("/api/companies").json()["results"] == []
