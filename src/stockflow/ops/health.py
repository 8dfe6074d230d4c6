"""``/healthz``: the process answers (no database: a database outage must not get every web
process restarted). ``/readyz``: the process can serve: database reachable, no unapplied
migration, the worker's heartbeat recent (when a worker is configured), cache reachable.
Both are public, exempt from the HTTPS redirect, and name what failed in a 503."""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

from stockflow.ops import heartbeat

logger = logging.getLogger("stockflow.ops")

# Migrations are read from disk once per process: the code cannot change under it.
_applied_ok: bool = False


def healthz(request):
    return JsonResponse({"status": "ok"})


def check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_migrations() -> str:
    global _applied_ok
    if _applied_ok:
        return "ok"
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in pending[:5])
        raise RuntimeError(f"{len(pending)} unapplied migration(s): {names}")
    _applied_ok = True
    return "ok"


def check_worker() -> str:
    if not settings.STOCKFLOW_WORKER:
        return "not configured"
    age = heartbeat.age_seconds()
    limit = settings.STOCKFLOW_WORKER_HEARTBEAT_MAX_AGE
    if age is None:
        raise RuntimeError("no heartbeat from the worker yet")
    if age > limit:
        raise RuntimeError(f"last heartbeat {age:.0f} s ago (limit {limit} s)")
    return "ok"


def check_cache() -> str:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("a value written could not be read back")
    cache.delete(key)
    return "ok"


CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "worker": check_worker,
    "cache": check_cache,
}
# What cannot be checked once the database is out.
NEEDS_DATABASE = {"migrations", "worker"}


def readyz(request):
    results: dict[str, str] = {}
    failed: list[str] = []
    started = time.monotonic()
    for name, check in CHECKS.items():
        if name in NEEDS_DATABASE and "database" in failed:
            results[name] = "skipped: database unavailable"
            failed.append(name)
            continue
        try:
            results[name] = check()
        except RuntimeError as exc:  # our own findings: safe to show
            results[name] = f"failed: {exc}"
            failed.append(name)
        except Exception as exc:  # a driver's message may name hosts: logged, not shown
            logger.warning("readyz: %s check failed", name, exc_info=True)
            results[name] = f"failed: {type(exc).__name__}"
            failed.append(name)
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": results,
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
    }
    if failed:
        body["failed"] = failed
        logger.warning("readyz failed: %s", ", ".join(failed))
    return JsonResponse(body, status=503 if failed else 200)
