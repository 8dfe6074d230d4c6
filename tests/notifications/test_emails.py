"""Email alerts through a real SMTP server (aiosmtpd on 127.0.0.1): immediate, batched
alerts and the daily digest at a local hour; the preferences API."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from stockflow.catalog.models import ProductSupplier, Supplier
from stockflow.inventory import sales as inventory
from stockflow.notifications import emails
from stockflow.notifications.models import NotificationPreference
from tests.factories import assert_error
from tests.mailserver import text_of

pytestmark = pytest.mark.django_db


def prefer(tenant, role="owner", **values) -> NotificationPreference:
    response = tenant.clients[role].put(
        f"/api/companies/{tenant.company.pk}/notification-preferences",
        {
            "immediate": False,
            "immediate_every_minutes": 15,
            "daily_digest": False,
            "digest_hour": 8,
            **values,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    return NotificationPreference.objects.get(user=tenant.users[role])


def later(minutes: float) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


def test_immediate_alerts_batch_every_new_low_and_out_event(shop, tenant_a, smtp):
    prefer(tenant_a, immediate=True, immediate_every_minutes=10)
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)  # low
    inventory.record_sale(product=shop.coffee, warehouse=shop.main, quantity=50)  # out
    assert emails.send_immediate_alerts(later(1)) == 1
    (recipients, message), *_ = smtp.messages
    assert recipients == [tenant_a.users["owner"].email]
    assert message["Subject"] == "[StockFlow] Acme: 2 stock alerts, 1 out of stock"
    body = text_of(message)
    assert "- Mug (MUG) in Main: low, 15 in stock (threshold 20), " in body
    # S = threshold 20 + 30 days × 85 / 30 = 105, 15 in stock
    assert "5 days until stockout at 2.8333 a day, suggested reorder 90 units." in body
    assert "- Coffee (COFFEE) in Main: OUT OF STOCK, 0 in stock" in body
    assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html"}

    # Nothing new: no email. A new alert within the interval waits for it.
    assert emails.send_immediate_alerts(later(2)) == 0
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=15)  # out
    assert emails.send_immediate_alerts(later(5)) == 0
    assert emails.send_immediate_alerts(later(12)) == 1
    assert len(smtp.messages) == 2
    assert "Mug (MUG) in Main: OUT OF STOCK" in text_of(smtp.messages[1][1])
    assert "COFFEE" not in text_of(smtp.messages[1][1])


def test_immediate_alerts_start_with_events_after_they_are_turned_on(shop, tenant_a, smtp):
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    prefer(tenant_a, "viewer", immediate=True)
    assert emails.send_immediate_alerts(later(1)) == 0
    assert smtp.messages == []


def test_the_daily_digest_is_sent_once_a_day_at_the_local_hour(shop, tenant_a, smtp):
    tenant_a.company.timezone = "America/New_York"
    tenant_a.company.save()
    supplier = Supplier.objects.create(company=shop.company, name="Mugs Inc")
    ProductSupplier.objects.create(
        company=shop.company, product=shop.mug, supplier=supplier, lead_time_days=5, is_primary=True
    )
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=1)
    prefer(tenant_a, "admin", daily_digest=True, digest_hour=9)

    # The next 08:30 in New York, then 09:30: before and after the chosen hour.
    local = timezone.now().astimezone(ZoneInfo("America/New_York"))
    early = local.replace(hour=8, minute=30, second=0, microsecond=0)
    if early <= local:
        early += timedelta(days=1)
    assert emails.send_daily_digests(early) == 0
    on_time = early + timedelta(hours=1)
    assert emails.send_daily_digests(on_time) == 1
    assert emails.send_daily_digests(on_time + timedelta(hours=2)) == 0  # once a day
    assert emails.send_daily_digests(on_time + timedelta(days=1)) == 1  # the next day

    (recipients, message), _ = smtp.messages
    assert recipients == [tenant_a.users["admin"].email]
    assert message["Subject"] == (
        f"[StockFlow] Acme: 1 product low on {on_time.date().isoformat()}"
    )
    body = text_of(message)
    # 86 sold in 30 days; 14 left; (5 days lead + 30 of cover) x 86 / 30 = 101 - 14.
    assert (
        "- Mug (MUG) in Main: 14 in stock (threshold 20), "
        "4 days until stockout at 2.8667 a day, suggested reorder 107 units from Mugs Inc."
    ) in body
    assert "COFFEE" not in body  # below its threshold, but no sales: no alert


def test_preferences_api(tenant_a, tenant_b):
    url = f"/api/companies/{tenant_a.company.pk}/notification-preferences"
    body = tenant_a.staff.get(url).json()
    assert body == {
        "immediate": False,
        "immediate_every_minutes": 15,
        "daily_digest": False,
        "digest_hour": 8,
        "company_id": tenant_a.company.pk,
        "timezone": "UTC",
    }
    assert not NotificationPreference.objects.exists()
    bad = tenant_a.staff.put(url, {**body, "digest_hour": 24}, format="json")
    assert list(assert_error(bad, 400, "validation_error")["fields"]) == ["digest_hour"]
    bad = tenant_a.staff.put(url, {**body, "immediate_every_minutes": 0}, format="json")
    assert list(assert_error(bad, 400, "validation_error")["fields"]) == ["immediate_every_minutes"]
    assert not NotificationPreference.objects.exists()
    assert_error(tenant_b.owner.get(url), 404, "not_found")
    assert_error(tenant_b.owner.put(url, body, format="json"), 404, "not_found")
    saved = tenant_a.staff.put(url, {**body, "daily_digest": True}, format="json").json()
    assert saved["daily_digest"] is True
    assert tenant_a.viewer.get(url).json()["daily_digest"] is False  # each member their own


def test_company_time_zone_is_validated(tenant_a):
    url = f"/api/companies/{tenant_a.company.pk}"
    bad = tenant_a.owner.patch(url, {"timezone": "Mars/Olympus"}, format="json")
    assert list(assert_error(bad, 400, "validation_error")["fields"]) == ["timezone"]
    ok = tenant_a.owner.patch(url, {"timezone": "Europe/Paris"}, format="json")
    assert ok.json()["timezone"] == "Europe/Paris"
