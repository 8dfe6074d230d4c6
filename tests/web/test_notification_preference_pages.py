"""Settings → Notifications: each member's own email preferences, per company."""

from __future__ import annotations

import pytest

from stockflow.notifications.models import NotificationPreference
from stockflow.tenancy.models import Membership, Role
from tests.factories.clients import logged_in
from tests.web.test_access import assert_app_error
from tests.web.test_invitation_pages import assert_inputs_labelled

pytestmark = pytest.mark.django_db

WANTED = {
    "immediate": "true",
    "immediate_every_minutes": "30",
    "daily_digest": "true",
    "digest_hour": "7",
}


def preferences_url(tenant) -> str:
    return f"/c/{tenant.company.pk}/settings/notifications/"


def test_a_viewer_sets_their_own_preferences(tenant_a, pages, django_assert_max_num_queries):
    client = pages[Role.VIEWER]
    with django_assert_max_num_queries(15):
        page = client.get(preferences_url(tenant_a))
    html = page.content.decode()
    assert page.status_code == 200 and 'value="15"' in html and 'value="8"' in html
    assert_inputs_labelled(html)
    assert not NotificationPreference.objects.exists()  # the defaults, not stored

    response = client.post(preferences_url(tenant_a), WANTED)
    assert response.status_code == 302
    saved = NotificationPreference.objects.get(user=tenant_a.users[Role.VIEWER])
    assert (saved.immediate, saved.immediate_every_minutes, saved.daily_digest) == (True, 30, True)
    assert saved.digest_hour == 7 and saved.company_id == tenant_a.company.pk
    with django_assert_max_num_queries(15):
        html = client.get(preferences_url(tenant_a)).content.decode()
    assert 'value="30"' in html and 'value="7"' in html

    # Unticking sends "false" (the hidden input before each checkbox).
    client.post(preferences_url(tenant_a), {**WANTED, "immediate": "false"})
    saved.refresh_from_db()
    assert saved.immediate is False
    # Another member's preferences are theirs.
    other = logged_in(tenant_a.users[Role.OWNER]).get(preferences_url(tenant_a))
    assert 'value="30"' not in other.content.decode()


def test_the_apis_limits_answer_on_the_form(tenant_a, pages):
    response = pages[Role.STAFF].post(
        preferences_url(tenant_a), {**WANTED, "digest_hour": "24", "immediate_every_minutes": "0"}
    )
    html = assert_app_error(response, 400)
    assert "less than or equal to 23" in html and "greater than or equal to 1" in html
    assert not NotificationPreference.objects.exists()


def test_preferences_are_per_company_and_another_company_is_404(tenant_a, tenant_b, pages):
    user = tenant_a.users[Role.STAFF]
    Membership.objects.create(user=user, company=tenant_b.company, role=Role.VIEWER)
    pages[Role.STAFF].post(preferences_url(tenant_a), WANTED)
    html = pages[Role.STAFF].get(preferences_url(tenant_b)).content.decode()
    assert 'value="15"' in html
    outsider = pages[Role.OWNER]
    assert_app_error(outsider.get(preferences_url(tenant_b)), 404)
    assert_app_error(outsider.post(preferences_url(tenant_b), WANTED), 404)
    assert NotificationPreference.objects.filter(company=tenant_b.company).count() == 0
