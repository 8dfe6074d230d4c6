"""Prometheus metrics: one registry for the whole service, served at ``/metrics``.

Add a metric from any app with the helpers below (created once per process, whatever the
number of imports)::

    from stockflow.ops import metrics

    TASKS = metrics.counter("stockflow_tasks_total", "Background tasks run.", ["kind", "outcome"])
    TASKS.labels(kind="email", outcome="ok").inc()

Under gunicorn each worker is a process: with ``PROMETHEUS_MULTIPROC_DIR`` set (``make
serve`` sets it) every process writes its values there and ``/metrics`` adds them up;
without it (one process, tests) the values live in memory."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

_metrics: dict[str, object] = {}

# Request durations: most answers take milliseconds, a report up to seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def _get_or_create(kind, name: str, documentation: str, labels, **options):
    if name not in _metrics:
        _metrics[name] = kind(name, documentation, list(labels), **options)
    return _metrics[name]


def counter(name: str, documentation: str, labels=()) -> Counter:
    return _get_or_create(Counter, name, documentation, labels)


def histogram(name: str, documentation: str, labels=(), buckets=LATENCY_BUCKETS) -> Histogram:
    return _get_or_create(Histogram, name, documentation, labels, buckets=buckets)


def gauge(name: str, documentation: str, labels=(), mode: str = "livesum") -> Gauge:
    """``mode``: how the processes' values add up under gunicorn (prometheus_client's
    ``multiprocess_mode``: livesum, max, min, ...)."""
    return _get_or_create(Gauge, name, documentation, labels, multiprocess_mode=mode)


_scrape_hooks: list = []


def on_scrape(hook) -> None:
    """Run ``hook()`` before each exposition: for gauges read from the database at scrape
    time (the task queue), whichever process answers ``/metrics``."""
    if hook not in _scrape_hooks:
        _scrape_hooks.append(hook)


def exposition() -> tuple[bytes, str]:
    """The text format of every metric (of every process under gunicorn)."""
    for hook in _scrape_hooks:
        hook()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


# The service's own metrics.
REQUEST_DURATION = histogram(
    "stockflow_http_request_duration_seconds",
    "Time to answer a request, by route (URL name), method and status.",
    ["route", "method", "status"],
)
STOCK_OPERATIONS = counter(
    "stockflow_stock_operations_total",
    "Stock operations (sale, receipt, adjustment, transfer) by outcome.",
    ["kind", "outcome"],
)
INSUFFICIENT_STOCK = counter(
    "stockflow_insufficient_stock_total",
    "Stock operations refused for insufficient stock.",
    ["kind"],
)
DATABASE_UNAVAILABLE = counter(
    "stockflow_database_unavailable_total",
    "Requests answered 503 because no database connection could be had in time.",
)
DB_POOL_CONNECTIONS = gauge(
    "stockflow_db_pool_connections",
    "Connections of the database pools (all processes): open, idle, and requests waiting.",
    ["state"],
)
WEBHOOK_DELIVERIES = counter(
    "stockflow_webhook_delivery_attempts_total",
    "Webhook delivery attempts by outcome: delivered, retry (failed, another attempt is due), "
    "failed (failed, no attempt left).",
    ["outcome"],
)
TASK_QUEUE_DEPTH = gauge(
    "stockflow_task_queue_depth",
    "Tasks of the database queue ready to run now.",
    mode="livemax",
)
TASK_QUEUE_OLDEST_AGE = gauge(
    "stockflow_task_queue_oldest_age_seconds",
    "Age of the oldest task ready to run (0 when the queue is empty).",
    mode="livemax",
)
