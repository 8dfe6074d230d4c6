"""Demand arithmetic of the low-stock report, exact: integers, never float.

The average daily rate is the fraction ``units_sold / days``; every figure derived from it
is computed from that fraction's numerator and denominator, and rounded once, at the end.
``days_until_stockout`` is computed by the report's SQL (``alerts.selectors``).
"""

from __future__ import annotations

#: decimal places of ``avg_daily_sales`` in the report
RATE_DECIMAL_PLACES = 4


def average_daily_sales_text(
    *, units_sold: int, days: int, places: int = RATE_DECIMAL_PLACES
) -> str:
    """units_sold / days rounded half-up to ``places`` decimals, from the exact fraction,
    written as a decimal string (the report's ``avg_daily_sales``)."""
    if days <= 0:
        raise ValueError("the window must be at least one day")
    scale = 10**places
    quotient, remainder = divmod(units_sold * scale, days)
    if 2 * remainder >= days:
        quotient += 1
    whole, fraction = divmod(quotient, scale)
    return f"{whole}.{fraction:0{places}d}" if places else str(whole)


def suggested_reorder_quantity(
    *, current_stock: int, units_sold: int, days: int, lead_time_days: int, cover_days: int
) -> int:
    """Units to order now so that stock lasts through the supplier's lead time plus the
    cover period at the average daily rate: ceil((lead + cover) * units_sold / days) minus
    what is in stock, never negative."""
    if days <= 0:
        raise ValueError("the window must be at least one day")
    needed = -((-(lead_time_days + cover_days) * units_sold) // days)  # ceiling division
    return max(0, needed - current_stock)


def add_forecast(rows: list[dict], *, window_days: int, cover_days: int):
    """Complete the selector's rows into the response's alerts, in place: the average daily
    rate and the suggested reorder quantity, exact (see ``alerts.forecast``). This runs once
    per alert, so it stays a plain loop over plain dicts."""
    rate_text = average_daily_sales_text
    reorder = suggested_reorder_quantity
    for row in rows:
        units_sold = row["units_sold"]
        row["avg_daily_sales"] = rate_text(units_sold=units_sold, days=window_days)
        row["suggested_reorder_quantity"] = reorder(
            current_stock=row["current_stock"],
            units_sold=units_sold,
            days=window_days,
            lead_time_days=row["lead_time_days"] or 0,
            cover_days=cover_days,
        )
    return rows
