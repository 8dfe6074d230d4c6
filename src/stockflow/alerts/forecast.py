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
    *,
    current_stock: int,
    threshold: int,
    units_sold: int,
    days: int,
    lead_time_days: int,
    cover_days: int,
    on_order: int = 0,
    on_draft: int = 0,
) -> int:
    """SPEC §4.1: the order-up-to level S = threshold + avg_daily_sales × (lead_time_days +
    cover_days), and the suggestion max(0, ceil(S − current_stock − on_order − on_draft)):
    once received, the level is back above its threshold with ``cover_days`` of demand left
    after the lead time, and what is already ordered or drafted is not suggested again.

    Exact: with avg_daily_sales = units_sold / days, ceil(S − held) is the ceiling of
    ((threshold − held) × days + units_sold × (lead + cover)) / days, in integers."""
    if days <= 0:
        raise ValueError("the window must be at least one day")
    held = current_stock + on_order + on_draft
    numerator = (threshold - held) * days + units_sold * (lead_time_days + cover_days)
    return max(0, -(-numerator // days))  # ceiling division


def complete_rows(rows: list[dict], *, window_days: int, cover_days: int) -> list[dict]:
    """Complete the report selector's rows into alerts, in place: the average daily rate,
    the suggested reorder quantity and whether ordering now is late, exact. This runs once
    per alert, so it stays a plain loop over plain dicts."""
    rate_text = average_daily_sales_text
    reorder = suggested_reorder_quantity
    for row in rows:
        units_sold = row["units_sold"]
        lead_time = row["lead_time_days"] or 0
        row["avg_daily_sales"] = rate_text(units_sold=units_sold, days=window_days)
        row["suggested_reorder_quantity"] = reorder(
            current_stock=row["current_stock"],
            threshold=row["threshold"],
            units_sold=units_sold,
            days=window_days,
            lead_time_days=lead_time,
            cover_days=cover_days,
            on_order=row["on_order"],
            on_draft=row["on_draft"],
        )
        # Ordering now is late: stock runs out before an order placed today arrives.
        row["stockout_before_delivery"] = row["days_until_stockout"] < lead_time
    return rows
