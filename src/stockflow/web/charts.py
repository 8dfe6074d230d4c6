"""Server-side SVG bar charts: the geometry is computed here, the template only draws it.
No JavaScript, nothing to load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH = 720
HEIGHT = 220
LEFT = 44  # room for the y-axis labels
BOTTOM = 24  # room for the x-axis labels
TOP = 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    baseline: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    total: int
    peak: int
    summary: str


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^n that is at least ``value`` (at least 1)."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def daily_bars(series: list[tuple[date, int]], *, unit: str = "units") -> BarChart:
    """A bar per day of ``series`` (oldest first), a y axis from 0 to a round number, and a
    date label about every two weeks."""
    peak = max((value for _, value in series), default=0)
    # At least 2, so the middle gridline is a whole number of units.
    top = _nice_ceiling(max(peak, 2))
    plot_width = WIDTH - LEFT - 4
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = plot_width / max(len(series), 1)
    bars = []
    for index, (day, value) in enumerate(series):
        height = plot_height * value / top
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.15, 2),
                y=round(baseline - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
                label=f"{day:%a %d %b}: {value} {unit}",
            )
        )
    y_ticks = [
        Tick(position=round(baseline - plot_height * share, 2), label=f"{round(top * share):,}")
        for share in (0, 0.5, 1)
    ]
    every = max(1, len(series) // 6)
    x_ticks = [
        Tick(position=round(LEFT + index * slot + slot / 2, 2), label=f"{day:%d %b}")
        for index, (day, _) in enumerate(series)
        if index % every == 0
    ]
    total = sum(value for _, value in series)
    summary = (
        f"{total:,} {unit} sold in {len(series)} days"
        + (f", {peak:,} on the busiest day" if series else "")
        + (f", from {series[0][0]:%d %b %Y} to {series[-1][0]:%d %b %Y}." if series else ".")
    )
    return BarChart(WIDTH, HEIGHT, LEFT, baseline, bars, y_ticks, x_ticks, total, peak, summary)
