"""Heartbeats of background processes, in the database so every web process sees them
whatever the cache.

The worker calls ``beat("worker")`` every few seconds (well under
``STOCKFLOW_WORKER_HEARTBEAT_MAX_AGE``); ``/readyz`` fails when the last beat is older."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from stockflow.ops.models import Heartbeat

WORKER = "worker"


def beat(name: str = WORKER, at: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": at or timezone.now()})


def age_seconds(name: str = WORKER) -> float | None:
    """Seconds since the last beat, or None when there never was one."""
    beat_at = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    return None if beat_at is None else (timezone.now() - beat_at).total_seconds()
