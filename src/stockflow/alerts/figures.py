"""The alert figures that stock events carry: for each level that crossed, its row of the
low-stock report (same statement, same arithmetic), as of the change. Registered with
``inventory.events`` when the app is ready (``apps.AlertsConfig.ready``)."""

from __future__ import annotations

from datetime import datetime

from stockflow.alerts import forecast, selectors
from stockflow.alerts.serializers import DEFAULT_COVER_DAYS, DEFAULT_WINDOW_DAYS


def stock_event_figures(
    company_id: int, keys: list[tuple[int, int]], now: datetime
) -> dict[tuple[int, int], dict]:
    """{(product id, warehouse id): figures} for the ``keys`` that are low-stock alerts (below
    their threshold, with sales in the report's default window). One statement."""
    warehouses = {warehouse_id for _, warehouse_id in keys}
    page = selectors.low_stock_alerts(
        company_id=company_id,
        now=now,
        days=DEFAULT_WINDOW_DAYS,
        warehouse_id=next(iter(warehouses)) if len(warehouses) == 1 else None,
        product_ids=sorted({product_id for product_id, _ in keys}),
    )
    rows = forecast.complete_rows(
        page.rows, window_days=DEFAULT_WINDOW_DAYS, cover_days=DEFAULT_COVER_DAYS
    )
    wanted = set(keys)
    return {
        (row["product_id"], row["warehouse_id"]): {
            "avg_daily_sales": row["avg_daily_sales"],
            "days_until_stockout": row["days_until_stockout"],
            "suggested_reorder_quantity": row["suggested_reorder_quantity"],
            "window_days": DEFAULT_WINDOW_DAYS,
            "cover_days": DEFAULT_COVER_DAYS,
            "supplier_id": row["supplier"]["id"] if row["supplier"] else None,
        }
        for row in rows
        if (row["product_id"], row["warehouse_id"]) in wanted
    }
