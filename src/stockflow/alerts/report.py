"""The low-stock report as its readers get it: the selector's one statement, each alert
completed with the reorder arithmetic of ``forecast``. The report's endpoint and the drafting
of purchase orders from the alerts both read it here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from stockflow.alerts import forecast, selectors


def low_stock_report(
    *,
    company_id: int,
    now: datetime,
    days: int,
    cover_days: int,
    warehouse_id: int | None = None,
    product_type_id: int | None = None,
    product_ids: Sequence[int] = (),
    limit: int | None = None,
    offset: int = 0,
) -> selectors.LowStockPage:
    page = selectors.low_stock_alerts(
        company_id=company_id,
        now=now,
        days=days,
        warehouse_id=warehouse_id,
        product_type_id=product_type_id,
        product_ids=product_ids,
        limit=limit,
        offset=offset,
    )
    forecast.complete_rows(page.rows, window_days=days, cover_days=cover_days)
    return page
