"""Company switcher, password change, and the 500 page."""

from __future__ import annotations

import pytest
from django.test import Client

from stockflow.tenancy.models import Membership, Role
from stockflow.web.models import UserPreference
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_chosen_company_is_remembered_across_sessions(tenant_a, tenant_b, shop):
    user = tenant_a.users[Role.STAFF]
    Membership.objects.create(user=user, company=tenant_b.company, role=Role.VIEWER)
    client = Client()
    client.force_login(user)
    assert client.get("/")["Location"] == f"/c/{tenant_a.company.pk}/"
    dashboard = client.get(f"/c/{tenant_a.company.pk}/").content.decode()
    assert 'name="company_id"' in dashboard and tenant_b.company.name in dashboard
    response = client.post("/switch/", {"company_id": tenant_b.company.pk})
    assert response["Location"] == f"/c/{tenant_b.company.pk}/"
    assert UserPreference.objects.get(user=user).company_id == tenant_b.company.pk
    later = Client()
    later.force_login(user)
    assert later.get("/")["Location"] == f"/c/{tenant_b.company.pk}/"


def test_a_user_with_one_company_gets_no_switcher(tenant_a, shop):
    client = Client()
    client.force_login(tenant_a.users[Role.OWNER])
    assert 'name="company_id"' not in client.get(f"/c/{tenant_a.company.pk}/").content.decode()


def test_password_change(tenant_a):
    user = tenant_a.users[Role.VIEWER]
    client = Client()
    client.force_login(user)
    response = client.post(
        "/password/",
        {"old_password": "wrong", "new_password1": "x", "new_password2": "x"},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    new = "a-much-better-passphrase-42"
    response = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


def test_an_unexpected_error_is_the_app_500_page(tenant_a, shop, monkeypatch):
    def broken(company_id):
        raise RuntimeError("boom")

    monkeypatch.setattr("stockflow.web.selectors.dashboard_counts", broken)
    client = Client(raise_request_exception=False)
    client.force_login(tenant_a.users[Role.OWNER])
    response = client.get(f"/c/{tenant_a.company.pk}/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and "boom" not in html and "Traceback" not in html


def test_logout_is_a_post(tenant_a):
    client = Client()
    client.force_login(tenant_a.users[Role.OWNER])
    assert client.post("/logout/").status_code == 302
    assert client.get(f"/c/{tenant_a.company.pk}/")["Location"].startswith("/login/")


def test_login_form_is_throttled_like_the_api_login(tenant_a):
    client = Client()
    user = tenant_a.users[Role.OWNER]
    for _ in range(10):
        response = client.post("/login/", {"username": user.username, "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
