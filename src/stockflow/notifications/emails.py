"""Email alerts: immediate (batched) and the daily digest."""

from __future__ import annotations


def send_immediate_alerts() -> int:
    return 0


def send_daily_digests() -> int:
    return 0
