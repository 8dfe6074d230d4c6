"""Turn ``DATABASE_URL`` into a Django ``DATABASES`` entry.

Only the two engines StockFlow supports are accepted: ``postgres://`` (psycopg 3, with
its connection pool unless ``DATABASE_POOL=0``) and ``sqlite:///path``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit


def sqlite_database(path: Path | str) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # IMMEDIATE takes the write lock when a transaction starts, so concurrent writers
        # queue instead of failing with "database is locked" in the middle of a stock move.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def pool_options(*, max_size: int, timeout: float) -> dict:
    """psycopg's connection pool, sized for the process and quick to drop dead connections.

    A sync gunicorn worker serves one request at a time: one connection (``max_size=1``); a
    bigger pool only collects connections that a database restart kills all at once. Each
    connection is checked when taken from the pool (Django passes psycopg's
    ``check_connection`` with ``CONN_HEALTH_CHECKS``; one round trip), so one killed by a
    restart is replaced at once instead of failing a request; a connection attempt that
    fails is not retried in the background for long (the next request tries again), so
    requests succeed as soon as the database is back. ``timeout`` bounds the wait for a
    connection: past it the request is answered 503 ``database_unavailable``."""
    return {
        "min_size": 1,
        "max_size": max_size,
        "timeout": timeout,
        "max_idle": 60,
        "reconnect_timeout": 1,
    }


def parse_database_url(
    url: str, *, pool: bool = True, pool_max_size: int = 10, pool_timeout: float = 3
) -> dict:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
        return sqlite_database(path or ":memory:")
    if scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ValueError(
            f"Unsupported DATABASE_URL scheme {scheme!r}: use postgres:// or sqlite://"
        )
    options = dict(parse_qsl(parts.query))
    # JIT compilation pays off on long analytical scans, not on this service's queries: on a
    # plan estimated as costly (the low-stock report's per-candidate index probes, estimated
    # pessimistically) it compiles for up to seconds before running for milliseconds. Off,
    # unless the URL gives its own server options (?options=...).
    options.setdefault("options", "-c jit=off")
    # An unreachable server is an error within seconds, not after the system's TCP timeout.
    options.setdefault("connect_timeout", "2")
    config: dict = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or options.pop("host", "")),
        "PORT": str(parts.port or options.pop("port", "")),
        "OPTIONS": options,
        "CONN_HEALTH_CHECKS": True,
    }
    if pool:
        config["OPTIONS"]["pool"] = pool_options(max_size=pool_max_size, timeout=pool_timeout)
    return config
