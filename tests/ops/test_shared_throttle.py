"""With REDIS_URL the login limit holds across gunicorn processes: 4 workers let through at
most the limit, not 4 times it (the in-process cache, as a control, lets more through)."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ops.servers import call, gunicorn, redis_server, server_env

LIMIT = 10
ATTEMPTS = 48
WORKERS = 4


def failed_logins(base: str) -> list[int]:
    """ATTEMPTS wrong-password logins for one username from 8 clients at once."""
    username = f"throttle-{secrets.token_hex(6)}"  # a fresh limit key for each run
    body = {"username": username, "password": "wrong password"}
    with ThreadPoolExecutor(8) as pool:
        answers = pool.map(lambda _: call(f"{base}/api/auth/token", body)[0], range(ATTEMPTS))
        statuses = list(answers)
    print(f"\n{WORKERS} workers, limit {LIMIT}: {statuses.count(401)} of {ATTEMPTS} let through")
    return statuses


@pytest.mark.usefixtures("db")  # the servers read the test database; nothing writes
def test_the_login_limit_holds_across_processes_with_redis():
    with redis_server() as redis_url:
        env = server_env(REDIS_URL=redis_url, STOCKFLOW_LOGIN_THROTTLE_RATE=f"{LIMIT}/hour")
        with gunicorn(WORKERS, env) as base:
            statuses = failed_logins(base)
            assert set(statuses) <= {401, 429}, base.log()
    assert 1 <= statuses.count(401) <= LIMIT, statuses


@pytest.mark.usefixtures("db")  # the servers read the test database; nothing writes
def test_without_redis_each_process_counts_alone():
    env = server_env(STOCKFLOW_LOGIN_THROTTLE_RATE=f"{LIMIT}/hour")
    env.pop("REDIS_URL", None)
    with gunicorn(WORKERS, env) as base:
        statuses = failed_logins(base)
        assert statuses.count(401) > LIMIT, base.log()
