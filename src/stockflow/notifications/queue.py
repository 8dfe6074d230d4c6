"""The task queue as the metrics see it: how many tasks are ready to run and how long the
oldest has waited. Read at each ``/metrics`` scrape, only with the database queue (another
backend, RQ or Celery, has its own exporter)."""

from __future__ import annotations

from django.db.models import Case, Count, DateTimeField, F, Min, When
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend

from stockflow.ops import metrics


def ready_tasks() -> tuple[int, float]:
    """(tasks ready to run now, seconds the oldest of them has been due). One query."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    # A task is due from its run_after, or from its enqueueing when it has none (date max).
    due = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")),
        default=F("run_after"),
        output_field=DateTimeField(),
    )
    stats = DBTaskResult.objects.ready().aggregate(depth=Count("pk"), oldest=Min(due))
    if not stats["depth"]:
        return 0, 0.0
    return stats["depth"], max(0.0, (now - stats["oldest"]).total_seconds())


def record_queue_metrics() -> None:
    if not isinstance(task_backends["default"], DatabaseBackend):
        return
    depth, age = ready_tasks()
    metrics.TASK_QUEUE_DEPTH.set(depth)
    metrics.TASK_QUEUE_OLDEST_AGE.set(age)
