"""The report's arithmetic against exact fractions: no float, one rounding at the end."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from stockflow.alerts.forecast import average_daily_sales_text, suggested_reorder_quantity


def average_daily_sales(**kwargs) -> Decimal:
    return Decimal(average_daily_sales_text(**kwargs))


stock = st.integers(min_value=0, max_value=2**31)
units = st.integers(min_value=1, max_value=2**40)
window = st.integers(min_value=1, max_value=365)
cover = st.integers(min_value=0, max_value=365)


@given(units_sold=units, days=window)
def test_average_daily_sales_is_the_exact_fraction_rounded_half_up(units_sold, days):
    rate = average_daily_sales(units_sold=units_sold, days=days)
    scaled = Fraction(units_sold, days) * 10_000
    assert rate.as_tuple().exponent == -4
    assert rate * 10_000 == math.floor(scaled + Fraction(1, 2))


@given(
    current_stock=stock,
    threshold=stock,
    units_sold=st.integers(min_value=0, max_value=2**40),
    days=window,
    lead=cover,
    cover_days=cover,
    on_order=stock,
    on_draft=stock,
)
def test_suggested_reorder_quantity_is_the_order_up_to_level_exactly(
    current_stock, threshold, units_sold, days, lead, cover_days, on_order, on_draft
):
    """SPEC §4.1 read literally, with exact fractions."""
    level = threshold + Fraction(units_sold, days) * (lead + cover_days)
    expected = max(0, math.ceil(level - current_stock - on_order - on_draft))
    assert (
        suggested_reorder_quantity(
            current_stock=current_stock,
            threshold=threshold,
            units_sold=units_sold,
            days=days,
            lead_time_days=lead,
            cover_days=cover_days,
            on_order=on_order,
            on_draft=on_draft,
        )
        == expected
    )


def test_examples():
    assert average_daily_sales(units_sold=1, days=32) == Decimal("0.0313")  # 0.03125 up
    assert format(average_daily_sales(units_sold=0, days=30), "f") == "0.0000"
    assert format(average_daily_sales(units_sold=2**62, days=7), "f") == "658812288346769700.5714"
    # 15 units in 30 days, threshold 20: S = 20 + 0.5 × 37 = 38.5; 7 held → 32
    assert (
        suggested_reorder_quantity(
            current_stock=7, threshold=20, units_sold=15, days=30, lead_time_days=7, cover_days=30
        )
        == 32
    )
    # No sales: nothing to cover beyond the threshold itself.
    assert (
        suggested_reorder_quantity(
            current_stock=3, threshold=10, units_sold=0, days=30, lead_time_days=7, cover_days=30
        )
        == 7
    )
    # The demo's case: 0 in stock, threshold 60, 1 unit in 30 days, lead 7, cover 30:
    # S = 60 + 37 / 30 → ceil(61.23) = 62, enough to end above the threshold.
    assert (
        suggested_reorder_quantity(
            current_stock=0, threshold=60, units_sold=1, days=30, lead_time_days=7, cover_days=30
        )
        == 62
    )
