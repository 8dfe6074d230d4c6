"""The webhook endpoints API: owners and admins only, the secret shown once, bad input named."""

from __future__ import annotations

import base64

import pytest

from stockflow.notifications import services
from stockflow.notifications.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint
from tests.factories import assert_error

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"


def create(client, company, **changes):
    body = {"company_id": company.pk, "url": URL, "events": ["stock.low", "stock.out"], **changes}
    return client.post("/api/webhooks", body, format="json")


def test_create_shows_the_secret_once(tenant_a):
    response = create(tenant_a.admin, tenant_a.company, description="ERP")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
    assert body["events"] == ["stock.low", "stock.out"] and body["is_active"] is True
    listed = tenant_a.owner.get("/api/webhooks").json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in tenant_a.owner.get(f"/api/webhooks/{body['id']}").json()

    rotated = tenant_a.owner.post(f"/api/webhooks/{body['id']}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != body["secret"]
    assert rotated["previous_secret_expires_at"] is not None


def test_update_and_delete(tenant_a):
    endpoint_id = create(tenant_a.owner, tenant_a.company).json()["id"]
    response = tenant_a.admin.patch(
        f"/api/webhooks/{endpoint_id}", {"events": ["*"], "is_active": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["events"] == ["*"] and response.json()["is_active"] is False
    assert tenant_a.admin.delete(f"/api/webhooks/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "ftp://127.0.0.1/hooks"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http://127.0.0.1/" + "a" * 2000}, "url"),
        ({"url": "http:///nohost"}, "url"),
        ({"events": ["stock.sideways"]}, "events"),
        ({"events": []}, "events"),
        ({"events": "stock.low"}, "events"),
        ({"description": "x" * 501}, "description"),
    ],
)
def test_bad_input_is_400_naming_the_field(tenant_a, changes, field):
    error = assert_error(
        create(tenant_a.owner, tenant_a.company, **changes), 400, "validation_error"
    )
    assert list(error["fields"]) == [field]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://localhost:8000/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://172.16.5.4/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://224.0.0.1/hooks",
        "http://0.0.0.0/hooks",
    ],
)
def test_addresses_inside_the_network_are_refused(tenant_a, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    error = assert_error(create(tenant_a.owner, tenant_a.company, url=url), 400, "validation_error")
    assert list(error["fields"]) == ["url"]
    assert not WebhookEndpoint.objects.exists()


def test_staff_and_viewers_get_403(tenant_a):
    endpoint = services.create_endpoint(company_id=tenant_a.company.pk, url=URL, events=["*"])
    for role in ("staff", "viewer"):
        client = tenant_a.clients[role]
        assert_error(create(client, tenant_a.company), 403, "permission_denied")
        assert_error(client.get("/api/webhooks"), 403, "permission_denied")
        assert_error(client.get(f"/api/webhooks/{endpoint.pk}"), 403, "permission_denied")
        assert_error(client.post(f"/api/webhooks/{endpoint.pk}/ping"), 403, "permission_denied")
    assert WebhookEndpoint.objects.count() == 1
    assert not WebhookDelivery.objects.exists()


def test_another_companys_endpoint_is_404(tenant_a, tenant_b):
    theirs = services.create_endpoint(company_id=tenant_b.company.pk, url=URL, events=["*"])
    for path in ("", "/deliveries"):
        assert_error(tenant_a.owner.get(f"/api/webhooks/{theirs.pk}{path}"), 404, "not_found")
    assert_error(
        tenant_a.owner.patch(f"/api/webhooks/{theirs.pk}", {"url": URL}, format="json"),
        404,
        "not_found",
    )
    assert_error(create(tenant_a.owner, tenant_b.company), 404, "not_found")
    assert tenant_a.owner.get("/api/webhooks").json()["results"] == []


def test_deliveries_list_every_attempt_and_a_delivery_can_be_retried(
    tenant_a, django_assert_max_num_queries
):
    endpoint = services.create_endpoint(company_id=tenant_a.company.pk, url=URL, events=["*"])
    pings = [services.send_ping(endpoint) for _ in range(3)]
    for number, (status, error) in enumerate([(500, ""), (None, "ConnectionRefusedError")], 1):
        DeliveryAttempt.objects.create(
            company_id=tenant_a.company.pk,
            delivery=pings[0],
            number=number,
            status_code=status,
            duration_ms=12,
            error=error,
            response_body="boom" if status else "",
        )
    with django_assert_max_num_queries(6):
        response = tenant_a.admin.get(f"/api/webhooks/{endpoint.pk}/deliveries")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [d["id"] for d in results] == [p.pk for p in reversed(pings)]
    attempts = results[-1]["attempts"]
    assert [(a["number"], a["status_code"], a["error"], a["response_body"]) for a in attempts] == [
        (1, 500, "", "boom"),
        (2, None, "ConnectionRefusedError", ""),
    ]
    assert set(attempts[0]) == {
        "number",
        "attempted_at",
        "status_code",
        "duration_ms",
        "error",
        "response_body",
    }
    WebhookDelivery.objects.filter(pk=pings[0].pk).update(status="failed")
    retried = tenant_a.admin.post(f"/api/webhook-deliveries/{pings[0].pk}/retry")
    assert retried.status_code == 202
    assert retried.json()["status"] == "pending"
