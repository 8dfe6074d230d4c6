"""Notification figures: what webhooks cost the sales, how fast a low-stock event reaches a
receiver, how many deliveries one worker makes per second.

    .venv/bin/python -m bench.notify [--duration 15] [--connections 16] [--crossings 250]

Everything runs here: PostgreSQL on 127.0.0.1 (database ``sf_bench_notify``, rebuilt from a
template ``sf_bench_notify_base`` before each measurement), gunicorn and ``manage.py worker``
on 127.0.0.1, and a receiver (an HTTP server in this process, answering 204) on 127.0.0.1.
Every process started here is stopped by its pid. Prints JSON lines.

1. ``sales_throughput``: POST /api/sales for ``--duration`` seconds (wrk), with the worker
   running, with no webhook endpoint and with 5 active endpoints subscribed to every event,
   alternated ``--rounds`` times each (medians compared); some levels cross their threshold
   during a run, so events are recorded and delivered (x5) while the sales go on.
2. ``event_latency``: with the worker idle, ``--crossings`` sales one after another, each
   taking a level below its threshold; for each ``stock.low``, the time from the sale's
   commit to the receiver getting it.
3. ``delivery_throughput``: 1,000 events recorded while the worker is stopped, then one
   worker started: deliveries per second from its first attempt to its last.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

from bench.common import (
    ROOT,
    STATE_DIR,
    VENV_BIN,
    database_url,
    emit,
    libpq_url,
    machine,
    server_env,
    setup_django,
    stop_process,
)
from bench.run import Gunicorn, default_workers, require_tools

NAME = "notify"
BASE = "sf_bench_notify_base"
THRESHOLD = 10
LEVELS = 2000


class Receiver:
    """An HTTP receiver on 127.0.0.1 that answers 204 and notes when each message arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.count = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.arrivals.setdefault(self.headers["webhook-id"], time.time())
                receiver.count += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def admin_url() -> str:
    return libpq_url(database_url("postgres").rsplit("/", 1)[0] + "/postgres")


def recreate(name: str, template: str | None = None) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def seed(db_url: str) -> dict:
    """One company, one warehouse, LEVELS products with threshold THRESHOLD; level i holds
    THRESHOLD + a seeded draw in [0, 60] units (plus one hot level with plenty), without
    history (no event to dispatch at start)."""
    recreate(f"sf_bench_{NAME}")
    env = {**server_env(db_url), "DATABASE_POOL": "0"}
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    from django.contrib.auth import get_user_model
    from django.db import connection

    from stockflow.catalog.models import Product, Warehouse
    from stockflow.inventory.models import StockLevel
    from stockflow.tenancy.models import Company, Membership, Role
    from stockflow.tenancy.services import issue_token

    rng = random.Random(42)
    company = Company.objects.create(name="Bench Notify")
    user = get_user_model().objects.create_user(username="bench-notify", email="b@example.com")
    Membership.objects.create(user=user, company=company, role=Role.OWNER)
    _, token = issue_token(user=user, name="bench")
    warehouse = Warehouse.objects.create(company=company, code="MAIN", name="Main")
    products = Product.objects.bulk_create(
        Product(
            company=company,
            sku=f"N-{i:05d}",
            name=f"Product {i}",
            price="5.00",
            low_stock_threshold=THRESHOLD,
        )
        for i in range(LEVELS + 1)
    )
    StockLevel.objects.bulk_create(
        StockLevel(
            company=company,
            product=product,
            warehouse=warehouse,
            quantity=THRESHOLD + rng.randint(0, 60) if i < LEVELS else 10**9,
            low_stock_threshold=THRESHOLD,
        )
        for i, product in enumerate(products)
    )
    connection.close()
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BASE}" TEMPLATE "sf_bench_{NAME}"')
    return {
        "company_id": company.id,
        "warehouse_id": warehouse.id,
        "user_id": user.id,
        "token": token,
        "product_ids": [p.id for p in products[:LEVELS]],
    }


def fresh_database() -> None:
    from django.db import connection

    connection.close()
    recreate(f"sf_bench_{NAME}", BASE)


class Worker:
    """``manage.py worker`` against the bench database, stopped by its pid."""

    def __init__(self, db_url: str) -> None:
        env = {**server_env(db_url), "STOCKFLOW_WEBHOOK_ALLOW_PRIVATE": "1"}
        self.log = open(STATE_DIR / "worker-notify.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "python"), "manage.py", "worker"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


def add_endpoints(state: dict, receiver: Receiver, count: int) -> None:
    from stockflow.notifications import services

    for number in range(count):
        services.create_endpoint(
            company_id=state["company_id"], url=f"{receiver.url}/{number}", events=["*"]
        )


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def sales_throughput(db_url: str, state: dict, args) -> dict:
    from stockflow.inventory.models import StockEvent
    from stockflow.notifications.models import WebhookDelivery

    targets = STATE_DIR / "targets-notify.txt"
    rng = random.Random(7)
    ids = state["product_ids"][:]
    rng.shuffle(ids)
    targets.write_text("".join(f"{p} {state['warehouse_id']}\n" for p in ids))
    runs: dict[int, list[dict]] = {0: [], 5: []}
    # Alternated (none, 5, 5, none, ...): a neighbour's load on this shared machine falls on
    # both settings alike.
    order = [0, 5, 5, 0] * args.rounds
    for endpoints in order[: 2 * args.rounds]:
        fresh_database()
        receiver = Receiver()
        add_endpoints(state, receiver, endpoints)
        worker = Worker(db_url)
        try:
            with Gunicorn(db_url, workers=args.workers) as server:
                time.sleep(2)
                figures = server.drive(
                    "/api/sales",
                    "sale.lua",
                    [str(targets), state["token"]],
                    connections=args.connections,
                    duration=args.duration,
                )
            events = StockEvent.objects.count()
            delivered_during = receiver.count
            wait_until(lambda: not WebhookDelivery.objects.filter(status="pending").exists(), 120)
        finally:
            worker.stop()
            receiver.close()
        runs[endpoints].append(
            {
                "requests_per_s": float(figures["rps"]),
                "p50_ms": figures.get("p50_ms"),
                "p99_ms": figures.get("p99_ms"),
                "non_2xx": figures["non_2xx"],
                "events": events,
                "deliveries_during_run": delivered_during,
                "deliveries_total": receiver.count,
                "background_cpu_pct": figures["background_cpu_pct"],
                "worker_cpu_ms_per_req": figures["worker_cpu_ms_per_req"],
            }
        )

    def median(endpoints: int, key: str) -> float:
        return statistics.median(run[key] for run in runs[endpoints])

    return {
        "figure": "sales_throughput",
        "no_endpoint": runs[0],
        "five_endpoints": runs[5],
        "ratio_requests_per_s": round(median(5, "requests_per_s") / median(0, "requests_per_s"), 3),
        "ratio_cpu_per_sale": round(
            median(0, "worker_cpu_ms_per_req") / median(5, "worker_cpu_ms_per_req"), 3
        ),
    }


def sell_one(state: dict, product_id: int) -> None:
    from stockflow.catalog.models import Product, Warehouse
    from stockflow.inventory import sales

    product = Product.objects.get(pk=product_id, company_id=state["company_id"])
    warehouse = Warehouse.objects.get(pk=state["warehouse_id"], company_id=state["company_id"])
    sales.record_sale(product=product, warehouse=warehouse, quantity=1)


def put_levels_at_threshold(state: dict, product_ids: list[int]) -> None:
    from stockflow.inventory.models import StockLevel

    StockLevel.objects.filter(company_id=state["company_id"], product_id__in=product_ids).update(
        quantity=THRESHOLD
    )


def event_latency(db_url: str, state: dict, args) -> dict:
    from stockflow.inventory.models import StockEvent

    fresh_database()
    product_ids = state["product_ids"][: args.crossings]
    put_levels_at_threshold(state, product_ids)
    receiver = Receiver()
    add_endpoints(state, receiver, 1)
    worker = Worker(db_url)
    committed: dict[str, float] = {}
    try:
        time.sleep(3)  # the worker is up and idle
        for product_id in product_ids:
            sell_one(state, product_id)  # commits; the level goes from 10 to 9: stock.low
            at = time.time()
            event_id = (
                StockEvent.objects.filter(company_id=state["company_id"], product_id=product_id)
                .values_list("id", flat=True)
                .get()
            )
            committed[f"evt_{event_id}"] = at
            # The worker idle between two crossings: wait for this one to arrive.
            wait_until(lambda key=f"evt_{event_id}": key in receiver.arrivals, 10)
            time.sleep(0.05)
    finally:
        worker.stop()
        receiver.close()
    latencies = sorted(
        (receiver.arrivals[key] - at) * 1000
        for key, at in committed.items()
        if key in receiver.arrivals
    )

    def pick(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    return {
        "figure": "event_latency",
        "crossings": len(committed),
        "received": len(latencies),
        "p50_ms": pick(0.50),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "max_ms": round(latencies[-1], 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
    }


def delivery_throughput(db_url: str, state: dict, args) -> dict:
    from django.db.models import Max, Min

    from stockflow.notifications.models import DeliveryAttempt, WebhookDelivery

    fresh_database()
    count = 1000
    product_ids = state["product_ids"][:count]
    put_levels_at_threshold(state, product_ids)
    receiver = Receiver()
    add_endpoints(state, receiver, 1)
    for product_id in product_ids:
        sell_one(state, product_id)
    worker = Worker(db_url)
    try:
        done = wait_until(
            lambda: WebhookDelivery.objects.filter(status="delivered").count() >= count, 300
        )
    finally:
        worker.stop()
        receiver.close()
    span = DeliveryAttempt.objects.aggregate(first=Min("attempted_at"), last=Max("attempted_at"))
    seconds = (span["last"] - span["first"]).total_seconds()
    return {
        "figure": "delivery_throughput",
        "deliveries": receiver.count,
        "all_delivered": done,
        "seconds": round(seconds, 2),
        "deliveries_per_s": round((count - 1) / seconds, 1) if seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--crossings", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=2, help="sales runs per setting")
    parser.add_argument(
        "--only", default="sales,latency,delivery", help="comma-separated figures to take"
    )
    args = parser.parse_args()
    require_tools("wrk")
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_POOL"] = "0"
    db_url = database_url(NAME)
    setup_django(db_url)
    emit(event="machine", **machine())
    state = seed(db_url)
    only = set(args.only.split(","))
    if "sales" in only:
        emit(**sales_throughput(db_url, state, args))
    if "latency" in only:
        emit(**event_latency(db_url, state, args))
    if "delivery" in only:
        emit(**delivery_throughput(db_url, state, args))
    Path(STATE_DIR / "targets-notify.txt").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
