"""The worker's clock: every tick it hands new stock events out (``dispatch_new_events``)
and enqueues each periodic job that is due. No cron: ``manage.py worker`` runs it beside the
task worker. With several workers, one ``UPDATE`` per due job decides which one enqueues it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import close_old_connections
from django.utils import timezone

from stockflow.notifications import services, tasks
from stockflow.notifications.models import ScheduledJob
from stockflow.ops import heartbeat
from stockflow.tenancy import dbcontext

logger = logging.getLogger("stockflow.worker")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    task: object


PERIODIC_JOBS = [
    PeriodicJob("sweep_webhook_deliveries", timedelta(seconds=30), tasks.sweep_webhook_deliveries),
    PeriodicJob("send_immediate_emails", timedelta(minutes=1), tasks.send_immediate_emails),
    PeriodicJob("send_daily_digests", timedelta(minutes=5), tasks.send_daily_digests),
    PeriodicJob("purge_idempotency_keys", timedelta(hours=6), tasks.purge_idempotency_keys),
    PeriodicJob("purge_old_records", timedelta(hours=6), tasks.purge_old_records),
]


def enqueue_due_jobs(now: datetime | None = None, jobs=PERIODIC_JOBS) -> list[str]:
    """Enqueue each job whose time has come, once across all workers; return their names."""
    now = now or timezone.now()
    enqueued = []
    # One read per tick; a write only for a job that is due (SQLite has one writer at a time).
    next_runs = dict(ScheduledJob.objects.values_list("name", "next_run_at"))
    for job in jobs:
        if job.name not in next_runs:
            ScheduledJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        elif next_runs[job.name] > now:
            continue
        claimed = ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now).update(
            next_run_at=now + job.every
        )
        if claimed:
            job.task.enqueue()
            enqueued.append(job.name)
    return enqueued


# The worker's heartbeat (``/readyz``) is written at most this often.
HEARTBEAT_EVERY = timedelta(seconds=5)


def tick(now: datetime | None = None) -> None:
    """Every company's new events, and the platform's periodic jobs: maintenance."""
    with dbcontext.maintenance():
        services.dispatch_new_events(now)
        enqueue_due_jobs(now)


class Scheduler(threading.Thread):
    """Runs ``tick`` every ``interval`` seconds until ``stop``; an error is logged, and the
    next tick tries again."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="stockflow-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        last_beat = None
        while not self.stopped.is_set():
            try:
                close_old_connections()
                tick()
                now = timezone.now()
                if last_beat is None or now - last_beat >= HEARTBEAT_EVERY:
                    heartbeat.beat(heartbeat.WORKER, now)
                    last_beat = now
            except Exception:
                logger.exception("Scheduler tick failed")
            self.stopped.wait(self.interval)
        close_old_connections()

    def stop(self) -> None:
        self.stopped.set()
