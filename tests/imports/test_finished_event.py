"""``import.finished`` (SPEC §4.2): one event when a dry run ends, valid or not, and one when
an apply ends, applied or failed; recorded with the job's final status, listed by
GET /api/events and delivered to webhooks like the stock events."""

from __future__ import annotations

import pytest

from stockflow.inventory.models import StockEvent
from stockflow.notifications import services as notifications
from stockflow.notifications.models import WebhookDelivery
from tests.factories.imports import applied, validated

pytestmark = pytest.mark.django_db

GOOD = "sku,name,price\nNEW-1,New one,4.50\nNEW-2,New two,1.00\n"
BAD = "sku,name,price\nNEW-1,New one,4.505\n"


def finished(company) -> list[dict]:
    return [
        event.data
        for event in StockEvent.objects.filter(company=company, type="import.finished").order_by(
            "id"
        )
    ]


def test_a_dry_run_ends_with_one_event_valid_or_not(shop):
    admin, company = shop.tenant.admin, shop.company
    good = validated(admin, company.pk, "products", GOOD)
    bad = validated(admin, company.pk, "products", BAD)
    events = finished(company)
    assert [(e["import_id"], e["status"], e["errors"]) for e in events] == [
        (good["id"], "valid", 0),
        (bad["id"], "invalid", 1),
    ]
    assert events[0]["kind"] == "products" and events[0]["created"] == 2


def test_an_apply_ends_with_its_own_event_listed_and_delivered(shop):
    admin, company = shop.tenant.admin, shop.company
    endpoint = notifications.create_endpoint(
        company_id=company.pk, url="http://127.0.0.1:9/hooks", events=["import.finished"]
    )
    job = applied(admin, company.pk, "products", GOOD)
    assert job["status"] == "applied"
    assert [e["status"] for e in finished(company)] == ["valid", "applied"]
    listed = admin.get("/api/events", {"type": "import.finished"}).json()["results"]
    assert [(e["type"], e["warehouse_id"], e["data"]["status"]) for e in listed] == [
        ("import.finished", None, "applied"),
        ("import.finished", None, "valid"),
    ]
    notifications.dispatch_new_events()
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2
