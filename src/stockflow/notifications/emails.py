"""Email alerts: immediate (batched: one email per member at most every N minutes, listing
every new ``stock.low``/``stock.out``) and the daily digest of the low-stock report at a
local hour. Each email has a plain-text body and an HTML alternative."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape

from stockflow.alerts import forecast
from stockflow.alerts.selectors import low_stock_alerts
from stockflow.alerts.serializers import DEFAULT_COVER_DAYS, DEFAULT_WINDOW_DAYS
from stockflow.catalog.models import Product, Warehouse
from stockflow.inventory.models import StockEvent, StockEventType
from stockflow.notifications.models import NotificationPreference
from stockflow.tenancy.models import Membership

ALERT_TYPES = [StockEventType.LOW, StockEventType.OUT]
# Events younger than this are left for the next run: a transaction that took its event id
# earlier may still be committing, and the cursor (``last_event_id``) must not pass it.
SETTLE = timedelta(seconds=10)
MAX_LINES = 200
DIGEST_ROWS = 100


def _send(to: str, subject: str, lines: list[str], footer: str) -> None:
    text = "\n".join([*lines, "", footer]) + "\n"
    html = "".join(f"<p>{escape(line)}</p>" for line in [*lines, footer])
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(f"<html><body>{html}</body></html>", "text/html")
    message.send()


def _event_line(event: StockEvent, products: dict, warehouses: dict) -> str:
    data = event.data
    name = products.get(event.product_id, data.get("sku", "?"))
    warehouse = warehouses.get(event.warehouse_id, f"warehouse {event.warehouse_id}")
    what = "OUT OF STOCK" if event.type == StockEventType.OUT else "low"
    line = (
        f"- {name} ({data.get('sku', '')}) in {warehouse}: {what}, "
        f"{data['quantity_after']} in stock"
    )
    if data.get("threshold") is not None:
        line += f" (threshold {data['threshold']})"
    if "days_until_stockout" in data:
        line += (
            f", {data['days_until_stockout']} days until stockout at "
            f"{data['avg_daily_sales']} a day, suggested reorder "
            f"{data['suggested_reorder_quantity']} units"
        )
    return line + "."


def _recipients(preferences: list[NotificationPreference]) -> dict[int, str]:
    """{preference id: email} of the members who still belong to the company and have an
    address (one query)."""
    members = {
        (company_id, user_id): email
        for company_id, user_id, email in Membership.objects.filter(
            company_id__in={p.company_id for p in preferences},
            user_id__in={p.user_id for p in preferences},
        ).values_list("company_id", "user_id", "user__email")
    }
    return {
        p.id: members[(p.company_id, p.user_id)]
        for p in preferences
        if members.get((p.company_id, p.user_id))
    }


def send_immediate_alerts(now: datetime | None = None) -> int:
    """One email per member whose interval has passed and who has new alert events; returns
    how many were sent."""
    now = now or timezone.now()
    preferences = list(
        NotificationPreference.objects.filter(immediate=True).select_related("company")
    )
    recipients = _recipients(preferences)
    sent = 0
    for preference in preferences:
        every = timedelta(minutes=preference.immediate_every_minutes)
        if preference.id not in recipients or (
            preference.last_immediate_at and preference.last_immediate_at > now - every
        ):
            continue
        events = list(
            StockEvent.objects.filter(
                company_id=preference.company_id,
                type__in=ALERT_TYPES,
                id__gt=preference.last_event_id,
                created_at__lte=now - SETTLE,
            ).order_by("id")[:MAX_LINES]
        )
        if not events:
            continue
        company = preference.company
        products = dict(
            Product.objects.filter(
                company_id=company.id, id__in={e.product_id for e in events}
            ).values_list("id", "name")
        )
        warehouses = dict(
            Warehouse.objects.filter(
                company_id=company.id, id__in={e.warehouse_id for e in events}
            ).values_list("id", "name")
        )
        outs = sum(e.type == StockEventType.OUT for e in events)
        subject = (
            f"[StockFlow] {company.name}: {len(events)} stock alert"
            + ("s" if len(events) > 1 else "")
            + (f", {outs} out of stock" if outs else "")
        )
        with transaction.atomic():
            claimed = NotificationPreference.objects.filter(
                pk=preference.pk,
                company_id=company.id,
                last_event_id=preference.last_event_id,
            ).update(last_event_id=events[-1].id, last_immediate_at=now)
            if not claimed:  # another worker sent it
                continue
            _send(
                recipients[preference.id],
                subject,
                [f"New stock alerts in {company.name}:", ""]
                + [_event_line(event, products, warehouses) for event in events],
                "You get these alerts as chosen in your notification preferences "
                f"(at most one email every {preference.immediate_every_minutes} minutes).",
            )
        sent += 1
    return sent


def _digest_row_line(row: dict) -> str:
    return (
        f"- {row['product_name']} ({row['sku']}) in {row['warehouse_name']}: "
        f"{row['current_stock']} in stock (threshold {row['threshold']}), "
        f"{row['days_until_stockout']} days until stockout at {row['avg_daily_sales']} a day, "
        f"suggested reorder {row['suggested_reorder_quantity']} units"
        + (f" from {row['supplier']['name']}" if row["supplier"] else "")
        + "."
    )


def send_daily_digests(now: datetime | None = None) -> int:
    """The low-stock report, to each member who asked for it, once per local day from the
    chosen hour; nothing is sent on a day with nothing low. Returns how many were sent."""
    now = now or timezone.now()
    preferences = list(
        NotificationPreference.objects.filter(daily_digest=True).select_related("company")
    )
    recipients = _recipients(preferences)
    reports: dict[int, tuple] = {}
    sent = 0
    for preference in preferences:
        company = preference.company
        local = now.astimezone(ZoneInfo(company.timezone))
        if local.hour < preference.digest_hour or preference.last_digest_on == local.date():
            continue
        if preference.id not in recipients:
            continue
        if company.id not in reports:
            page = low_stock_alerts(
                company_id=company.id, now=now, days=DEFAULT_WINDOW_DAYS, limit=DIGEST_ROWS
            )
            rows = forecast.complete_rows(
                page.rows, window_days=DEFAULT_WINDOW_DAYS, cover_days=DEFAULT_COVER_DAYS
            )
            reports[company.id] = (page.total, rows)
        total, rows = reports[company.id]
        with transaction.atomic():
            claimed = (
                NotificationPreference.objects.filter(pk=preference.pk, company_id=company.id)
                .exclude(last_digest_on=local.date())
                .update(last_digest_on=local.date())
            )
            if not claimed or not rows:
                continue
            more = [f"... and {total - len(rows)} more."] if total > len(rows) else []
            _send(
                recipients[preference.id],
                f"[StockFlow] {company.name}: {total} product{'s' if total > 1 else ''} low"
                f" on {local.date().isoformat()}",
                [f"Low-stock report of {company.name}, most urgent first:", ""]
                + [_digest_row_line(row) for row in rows]
                + more,
                f"Sales window {DEFAULT_WINDOW_DAYS} days; reorders cover {DEFAULT_COVER_DAYS} "
                "days after the supplier's lead time.",
            )
        sent += 1
    return sent


def start_from_now(preference: NotificationPreference) -> None:
    """Immediate alerts start with the events after the preference is turned on."""
    latest = (
        StockEvent.objects.filter(company_id=preference.company_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    preference.last_event_id = latest or 0
