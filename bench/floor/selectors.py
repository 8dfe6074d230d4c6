"""The report query of the bare Django stand-in: bench/alerts_reference.sql, shaped as
SPEC.md 3.2. Kept apart from the view so that bench.probe can tell its statements from the
authentication and membership queries (it picks statements by the file that issued them)."""

from __future__ import annotations

from pathlib import Path

from django.db import connection

REFERENCE_ALERTS_SQL = (Path(__file__).resolve().parent.parent / "alerts_reference.sql").read_text()
ALERT_COLUMNS = (
    "product_id",
    "product_name",
    "sku",
    "warehouse_id",
    "warehouse_name",
    "current_stock",
    "threshold",
    "days_until_stockout",
)


def low_stock_alert_rows(*, company_id: int, window_days: int) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(REFERENCE_ALERTS_SQL, {"company_id": company_id, "window_days": window_days})
        rows = cursor.fetchall()
    alerts = []
    for row in rows:
        alert = dict(zip(ALERT_COLUMNS, row[:8], strict=True))
        alert["supplier"] = (
            {"id": row[8], "name": row[9], "contact_email": row[10]} if row[8] else None
        )
        alerts.append(alert)
    return alerts
