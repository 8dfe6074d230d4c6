"""Settings → Webhooks: owners and admins manage endpoints (the secret shown once), ping,
rotate, delete, and see deliveries with their attempts, with a retry."""

from __future__ import annotations

import re

import pytest

from stockflow.notifications import services
from stockflow.notifications.models import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from stockflow.tenancy.models import Role
from tests.factories.clients import logged_in
from tests.web.test_access import assert_app_error
from tests.web.test_invitation_pages import assert_inputs_labelled

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"


def webhooks_url(tenant) -> str:
    return f"/c/{tenant.company.pk}/settings/webhooks/"


def webhook_url(tenant, endpoint) -> str:
    return f"{webhooks_url(tenant)}{endpoint.pk}/"


def endpoint_of(tenant) -> WebhookEndpoint:
    return services.create_endpoint(company_id=tenant.company.pk, url=URL, events=["stock.low"])


def secret_shown(response) -> str:
    found = re.search(r'id="new-secret" value="([^"]+)"', response.content.decode())
    return found.group(1) if found else ""


def test_an_admin_creates_a_webhook_and_sees_its_secret_once(tenant_a, pages):
    client = pages[Role.ADMIN]
    html = client.get(webhooks_url(tenant_a)).content.decode()
    assert_inputs_labelled(html)
    response = client.post(
        webhooks_url(tenant_a),
        {
            "url": URL,
            "events": ["stock.low", "stock.out"],
            "description": "ERP",
            "is_active": "true",
        },
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(company=tenant_a.company)
    assert endpoint.events == ["stock.low", "stock.out"] and endpoint.description == "ERP"
    assert secret_shown(response) == endpoint.secret and endpoint.secret.startswith("whsec_")
    again = client.get(webhooks_url(tenant_a))
    assert secret_shown(again) == "" and endpoint.secret not in again.content.decode()
    assert URL in again.content.decode()


def test_the_apis_validation_answers_on_the_form(tenant_a, pages):
    client = pages[Role.OWNER]
    bad = client.post(webhooks_url(tenant_a), {"url": "ftp://127.0.0.1/x", "events": ["*"]})
    assert 'aria-invalid="true"' in assert_app_error(bad, 400)
    none = client.post(webhooks_url(tenant_a), {"url": URL})
    assert "events:" in assert_app_error(none, 400)
    assert not WebhookEndpoint.objects.exists()


def test_edit_rotate_ping_and_delete(tenant_a, pages):
    endpoint = endpoint_of(tenant_a)
    client = pages[Role.ADMIN]
    url = webhook_url(tenant_a, endpoint)
    response = client.post(
        url,
        {
            "action": "save",
            "url": URL + "/v2",
            "events": ["*"],
            "description": "new",
            "is_active": "false",
        },
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.description, endpoint.is_active) == (
        URL + "/v2",
        ["*"],
        "new",
        False,
    )
    old_secret = endpoint.secret
    rotated = client.post(url, {"action": "rotate"})
    endpoint.refresh_from_db()
    assert secret_shown(rotated) == endpoint.secret != old_secret
    assert endpoint.previous_secret == old_secret

    assert client.post(url, {"action": "ping"}).status_code == 302
    ping = WebhookDelivery.objects.get(endpoint=endpoint)
    assert ping.event_type == "webhook.ping"
    html = client.get(url).content.decode()
    assert ping.message_id in html and old_secret not in html and endpoint.secret not in html
    assert_inputs_labelled(html)

    assert client.post(url, {"action": "delete"})["Location"] == webhooks_url(tenant_a)
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_show_their_attempts_with_a_fixed_number_of_queries(
    tenant_a, pages, django_assert_max_num_queries
):
    endpoint = endpoint_of(tenant_a)
    deliveries = [services.send_ping(endpoint) for _ in range(5)]
    for delivery in deliveries:
        for number in (1, 2):
            DeliveryAttempt.objects.create(
                company_id=tenant_a.company.pk,
                delivery=delivery,
                number=number,
                status_code=503 if number == 1 else None,
                duration_ms=40 + number,
                error="" if number == 1 else "ConnectionRefusedError",
            )
    WebhookDelivery.objects.filter(pk=deliveries[0].pk).update(status=DeliveryStatus.FAILED)
    with django_assert_max_num_queries(15):
        response = pages[Role.ADMIN].get(webhook_url(tenant_a, endpoint))
    html = response.content.decode()
    assert html.count("ConnectionRefusedError") == 5 and "503" in html and "42 ms" in html
    retry = pages[Role.ADMIN].post(
        webhook_url(tenant_a, endpoint), {"action": "retry", "delivery_id": deliveries[0].pk}
    )
    assert retry.status_code == 302
    deliveries[0].refresh_from_db()
    assert deliveries[0].status == DeliveryStatus.PENDING


def test_staff_and_viewers_get_403_and_another_companys_webhook_is_404(tenant_a, tenant_b, pages):
    endpoint = endpoint_of(tenant_a)
    for role in (Role.STAFF, Role.VIEWER):
        assert_app_error(pages[role].get(webhooks_url(tenant_a)), 403)
        assert_app_error(
            pages[role].post(webhooks_url(tenant_a), {"url": URL, "events": ["*"]}), 403
        )
        assert_app_error(
            pages[role].post(webhook_url(tenant_a, endpoint), {"action": "delete"}), 403
        )
    foreign = logged_in(tenant_b.users[Role.OWNER])
    theirs = f"{webhooks_url(tenant_b)}{endpoint.pk}/"
    assert_app_error(foreign.get(theirs), 404)
    for action in ("delete", "rotate", "ping", "save"):
        assert_app_error(foreign.post(theirs, {"action": action, "url": URL, "events": ["*"]}), 404)
    mine = services.create_endpoint(company_id=tenant_b.company.pk, url=URL, events=["*"])
    delivery = services.send_ping(endpoint)
    response = foreign.post(
        f"{webhooks_url(tenant_b)}{mine.pk}/", {"action": "retry", "delivery_id": delivery.pk}
    )
    assert_app_error(response, 404)
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, url=URL, events=["stock.low"]).exists()
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
