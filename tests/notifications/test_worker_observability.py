"""What operators see of the worker: its heartbeat makes /readyz pass, and /metrics counts
webhook delivery attempts by outcome and shows the task queue's depth and oldest age."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY

from stockflow.inventory import sales as inventory
from stockflow.notifications import services, tasks
from stockflow.notifications.scheduler import Scheduler
from stockflow.ops import heartbeat
from tests.notifications.receiver import Receiver, work_until

pytestmark = pytest.mark.django_db(transaction=True)

METRICS_TOKEN = "metrics-token-for-worker-tests"


def attempts(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "stockflow_webhook_delivery_attempts_total", {"outcome": outcome}
    )
    return value or 0.0


def scrape(client, settings) -> dict[str, float]:
    settings.STOCKFLOW_METRICS_TOKEN = METRICS_TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200
    values = {}
    for line in response.content.decode().splitlines():
        if line.startswith("stockflow_task_queue_"):
            name, value = line.split()
            values[name] = float(value)
    return values


def test_the_scheduler_beats_and_readyz_follows(client, settings):
    settings.STOCKFLOW_WORKER = True
    assert client.get("/readyz").status_code == 503  # no worker has beaten yet
    scheduler = Scheduler(0.05)
    scheduler.start()
    try:
        deadline = time.monotonic() + 15
        while heartbeat.age_seconds() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
        scheduler.join(5)
    assert heartbeat.age_seconds() is not None and heartbeat.age_seconds() < 15
    assert client.get("/readyz").status_code == 200


def test_delivery_attempts_are_counted_by_outcome(shop, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [0.2]
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    receiver = Receiver().start()
    receiver.statuses = [500, 200]
    before = {outcome: attempts(outcome) for outcome in ("delivered", "retry", "failed")}
    try:
        services.create_endpoint(company_id=shop.company.id, url=receiver.url, events=["*"])
        inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
        work_until(lambda: attempts("delivered") > before["delivered"])
    finally:
        receiver.stop()
    assert attempts("retry") - before["retry"] == 1
    assert attempts("delivered") - before["delivered"] == 1
    assert attempts("failed") == before["failed"]


def test_the_task_queue_depth_and_oldest_age_are_scraped(client, settings):
    assert scrape(client, settings) == {
        "stockflow_task_queue_depth": 0.0,
        "stockflow_task_queue_oldest_age_seconds": 0.0,
    }
    tasks.purge_old_records.enqueue()
    time.sleep(0.3)
    tasks.purge_idempotency_keys.enqueue()
    values = scrape(client, settings)
    assert values["stockflow_task_queue_depth"] == 2.0
    assert 0.3 <= values["stockflow_task_queue_oldest_age_seconds"] < 30
