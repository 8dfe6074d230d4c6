"""A PostgreSQL restart under a load of sales with idempotency keys, on a throwaway cluster:
no acknowledged sale is lost, a failed sale retried with its key has exactly one effect,
a request during the outage is a 503 (never a 500) within the pool timeout, /readyz is 503
during the outage and 200 after, and no request that starts 2 s after the restart fails."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

import psycopg
import pytest

from tests.ops.servers import Cluster, call, gunicorn, postgres_bin, server_env

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(postgres_bin() is None, reason="initdb/pg_ctl not installed"),
]

CLIENTS = 3  # and the /readyz probe: one request per gunicorn worker
OUTAGE_SECONDS = 7
POOL_TIMEOUT = 3
STOCK = 100_000


@dataclass
class Attempt:
    key: str
    started: float
    ended: float
    status: int
    body: dict | str
    headers: dict


@pytest.fixture
def cluster():
    cluster = Cluster()
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


def migrate(url: str) -> None:
    import subprocess
    import sys

    from tests.ops.servers import ROOT

    env = server_env(DATABASE_URL=url, DATABASE_POOL="0")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def set_up_shop(base: str) -> dict:
    password = "walnut 7 cabinet door"
    status, body, _ = call(
        f"{base}/api/signup",
        {
            "username": "shop",
            "email": "shop@example.com",
            "password": password,
            "company_name": "Shop",
        },
    )
    assert status == 201, body
    company_id = body["company_id"]
    status, body, _ = call(f"{base}/api/auth/token", {"username": "shop", "password": password})
    auth = {"Authorization": f"Bearer {body['token']}"}
    status, warehouse, _ = call(
        f"{base}/api/warehouses",
        {"company_id": company_id, "name": "Main", "code": "MAIN"},
        headers=auth,
    )
    assert status == 201, warehouse
    status, product, _ = call(
        f"{base}/api/products",
        {
            "name": "Mug",
            "sku": "MUG",
            "price": "5.00",
            "warehouse_id": warehouse["id"],
            "initial_quantity": STOCK,
        },
        headers=auth,
    )
    assert status == 201, product
    return {"auth": auth, "product_id": product["id"], "warehouse_id": warehouse["id"]}


def sell(base: str, shop: dict, key: str) -> Attempt:
    started = time.monotonic()
    try:
        status, body, headers = call(
            f"{base}/api/sales",
            {"product_id": shop["product_id"], "warehouse_id": shop["warehouse_id"], "quantity": 1},
            headers={**shop["auth"], "Idempotency-Key": key},
            timeout=20,
        )
    except OSError as exc:  # no answer at all
        status, body, headers = 0, repr(exc), {}
    return Attempt(key, started, time.monotonic(), status, body, headers)


def test_a_database_restart_loses_nothing_and_heals_within_two_seconds(cluster):
    with psycopg.connect(
        cluster.url().replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute("CREATE DATABASE stockflow")
    url = cluster.url("stockflow")
    migrate(url)
    env = server_env(DATABASE_URL=url, DATABASE_POOL_TIMEOUT=str(POOL_TIMEOUT))
    with gunicorn(CLIENTS + 1, env) as base:
        shop = set_up_shop(base)
        attempts: list[Attempt] = []
        readiness: list[tuple[float, int]] = []
        stop = threading.Event()
        numbers = itertools.count()

        def client(n: int) -> None:
            while not stop.is_set():
                attempts.append(sell(base, shop, f"sale-{n}-{next(numbers)}"))
                time.sleep(0.02)

        def probe() -> None:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    readiness.append((started, call(f"{base}/readyz", timeout=10)[0]))
                except OSError:
                    readiness.append((started, 0))
                time.sleep(0.2)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        threads.append(threading.Thread(target=probe))
        for thread in threads:
            thread.start()
        try:
            time.sleep(2)
            cluster.stop()
            down = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
            cluster.start()
            up = time.monotonic()
            time.sleep(6)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)

        failed = [a for a in attempts if a.status != 201]
        # Every failed sale retried with its key until it is acknowledged.
        retried: list[Attempt] = []
        for attempt in failed:
            for _ in range(5):
                again = sell(base, shop, attempt.key)
                retried.append(again)
                if again.status == 201:
                    break
                time.sleep(1)
        log = base.log()

    summary = (
        f"{len(attempts)} sales, {len(failed)} failed during the outage, "
        f"statuses {sorted({a.status for a in attempts})}"
    )
    print(f"\n{summary}; outage {up - down:.1f} s; readiness {readiness}")
    assert failed, "the restart must have been felt: " + summary
    for attempt in failed:
        assert attempt.status == 503, (attempt, log)
        assert attempt.body["error"]["code"] == "database_unavailable"
        assert int(attempt.headers["Retry-After"]) >= 1
        assert attempt.ended - attempt.started <= POOL_TIMEOUT + 2, attempt
    late = [a for a in attempts if a.started >= up + 2 and a.status != 201]
    assert not late, late
    assert any(a.started >= up + 2 for a in attempts)
    by_key = {a.key: a for a in attempts if a.status == 201}
    by_key.update({a.key: a for a in retried if a.status == 201})
    assert set(by_key) == {a.key for a in attempts}, "a retried sale was never acknowledged"
    assert any(s == 503 for t, s in readiness if down < t < up), readiness
    assert all(s == 200 for t, s in readiness if t >= up + 2), readiness

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        sale_ids = {row[0] for row in conn.execute("SELECT id FROM inventory_sale")}
        (quantity,) = conn.execute("SELECT quantity FROM inventory_stocklevel").fetchone()
    acknowledged = {a.body["id"] for a in by_key.values()}
    # No acknowledged sale lost, and one sale per key: nothing more.
    assert acknowledged == sale_ids
    assert len(sale_ids) == len(by_key)
    assert quantity == STOCK - len(sale_ids)
