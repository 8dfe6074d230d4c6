"""What keeps the pytest-xdist workers of one run out of each other's way: a free port for
each server a test starts, and a Redis database of each worker's own (Django's
``RedisCache.clear()``, run around every test, empties the whole database whatever the key
prefix, so a prefix alone would not keep one worker from wiping another's counters)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

# Databases 1-7 hold the workers' caches (and the servers their tests start), 8-14 their RQ
# queues; 0 is left to a developer's own server. Workers past the 7th share a database.
CACHE_DATABASES = range(1, 8)
QUEUE_DATABASES = range(8, 15)


def worker_index() -> int:
    """0 for gw0 (or a run without xdist), 1 for gw1, ..."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


def redis_database(databases: range = CACHE_DATABASES) -> int:
    return databases[worker_index() % len(databases)]


def with_database(url: str, database: int) -> str:
    """``redis://host:port/N`` with the database replaced by ``database``."""
    return urlsplit(url)._replace(path=f"/{database}").geturl()


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now (the kernel picks it at random)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
