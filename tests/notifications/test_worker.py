"""The worker: a real ``manage.py worker`` process killed mid-delivery loses nothing; two
workers never make the same attempt; the scheduler enqueues each periodic job once; the
task backend is a setting (RQ on Redis)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from stockflow.inventory import sales as inventory
from stockflow.notifications import scheduler, services
from stockflow.notifications.models import DeliveryStatus, ScheduledJob, WebhookDelivery
from tests.notifications.receiver import Receiver, run_worker_once, work_until

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker_process(**env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "DATABASE_POOL": "0",
            "DEBUG": "1",
            "STOCKFLOW_WEBHOOK_ALLOW_PRIVATE": "1",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, timeout: float = 90.0) -> None:
    # Generous: a worker process starting on a loaded machine takes a while to import Django.
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_loses_nothing(shop, receiver, settings):
    """The worker process posts the event; the receiver holds the request; the process is
    killed before any answer. Once its lease expires, the sweep hands the delivery to
    another worker, which delivers it: the receiver gets the same event twice, never zero."""
    settings.WEBHOOK_RETRY_SCHEDULE = [0.2]
    receiver.first_delay = 30
    services.create_endpoint(company_id=shop.company.id, url=receiver.url, events=["stock.low"])
    inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
    process = start_worker_process(
        STOCKFLOW_WEBHOOK_TIMEOUT="2", STOCKFLOW_WEBHOOK_LEASE_MARGIN="0"
    )
    try:
        wait_for(lambda: len(receiver.received) == 1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempt_count == 1
    assert not delivery.attempts.exists()  # the killed worker recorded nothing

    def sweep_due_and_delivered() -> bool:
        # The sweep runs every 30 s: here it is due at once.
        ScheduledJob.objects.filter(name="sweep_webhook_deliveries").update(
            next_run_at=timezone.now()
        )
        return WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED

    work_until(sweep_due_and_delivered, timeout=20, pause=0.3)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body


def test_the_worker_process_delivers_and_stops_on_ctrl_c(shop, receiver):
    services.create_endpoint(company_id=shop.company.id, url=receiver.url, events=["stock.low"])
    process = start_worker_process()
    try:
        inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
        wait_for(lambda: len(receiver.received) == 1)
        wait_for(lambda: WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0


def test_sigterm_lets_the_running_task_finish(shop):
    # make serve stops the worker with SIGTERM: a delivery under way is completed, not cut.
    slow = Receiver(delay=2.0).start()
    try:
        services.create_endpoint(company_id=shop.company.id, url=slow.url, events=["stock.low"])
        process = start_worker_process()
        try:
            inventory.record_sale(product=shop.mug, warehouse=shop.main, quantity=85)
            wait_for(lambda: len(slow.received) == 1)  # the receiver is answering slowly
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempt_count == 1
    finally:
        slow.stop()


@pytest.mark.postgres
def test_two_workers_never_make_the_same_attempt(shop, receiver):
    """40 deliveries, each task enqueued twice, two workers at once: every event reaches the
    receiver exactly once, in one attempt."""
    receiver.delay = 0.02
    endpoint = services.create_endpoint(
        company_id=shop.company.id, url=receiver.url, events=["stock.low"]
    )
    deliveries = [services.send_ping(endpoint) for _ in range(40)]
    services._enqueue([(d.company_id, d.id) for d in deliveries])  # every task twice

    def worker() -> None:
        try:
            for _ in range(20):
                run_worker_once()
                if not WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists():
                    return
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    counts = Counter(receiver.ids())
    assert len(counts) == 40 and set(counts.values()) == {1}, counts
    assert set(WebhookDelivery.objects.values_list("attempt_count", flat=True)) == {1}
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_periodic_jobs_are_enqueued_once_when_due():
    now = timezone.now()
    first = scheduler.enqueue_due_jobs(now)
    assert set(first) == {job.name for job in scheduler.PERIODIC_JOBS}
    assert scheduler.enqueue_due_jobs(now + timedelta(seconds=1)) == []
    assert scheduler.enqueue_due_jobs(now + timedelta(seconds=31)) == ["sweep_webhook_deliveries"]
    names = Counter(
        path.rsplit(".", 1)[1] for path in DBTaskResult.objects.values_list("task_path", flat=True)
    )
    assert names["sweep_webhook_deliveries"] == 2 and names["purge_old_records"] == 1
    run_worker_once()
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.redis
@pytest.mark.skipif(not redis_answers(), reason="no Redis server on 127.0.0.1:6379")
def test_the_task_backend_is_a_setting_rq_on_redis(shop, receiver):
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker

    rq_tasks = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    queue = django_rq.get_queue("default", job_class=Job)
    queue.empty()
    endpoint = services.create_endpoint(
        company_id=shop.company.id, url=receiver.url, events=["stock.low"]
    )
    with override_settings(TASKS=rq_tasks):
        ping = services.send_ping(endpoint)
        assert queue.count == 1 and not DBTaskResult.objects.exists()
        SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
    assert receiver.ids() == [f"ping_{ping.id}"]
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
    assert settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
