"""Shared plumbing of the benchmark scripts: database names, the state file written by the
dataset loader, JSON-line output, Django setup and child processes started (and stopped) by pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
STATE_DIR = ROOT / "var" / "bench"

SERVER_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# Database names are "<prefix>_<size>": a distinct prefix keeps two checkouts measuring on one
# server from loading into (and selling from) the same database.
DATABASE_PREFIX = os.environ.get("BENCH_DB_PREFIX", "sf_bench")
# Only a local server is ever loaded or driven by these scripts.
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

# A fixed key for the benchmark servers only: they listen on 127.0.0.1 and serve bench data.
BENCH_SECRET_KEY = "stockflow-bench-only-secret-key-not-for-production-0123456789"


def emit(**fields) -> None:
    """Print one figure (or event) as a JSON line, flushed at once."""
    print(json.dumps(fields, default=str), flush=True)


def database_url(size: str) -> str:
    parts = urlsplit(SERVER_URL)
    if parts.hostname not in LOCAL_HOSTS:
        raise SystemExit(f"BENCH_PG_URL must point to a local server, not {parts.hostname!r}")
    return urlunsplit(parts._replace(path=f"/{database_name(size)}"))


def database_name(size: str) -> str:
    if not DATABASE_PREFIX.replace("_", "").isalnum():
        raise SystemExit(f"BENCH_DB_PREFIX must be letters, digits and _, not {DATABASE_PREFIX!r}")
    return f"{DATABASE_PREFIX}_{size.lower()}"


def libpq_url(url: str) -> str:
    """psycopg and pgbench want postgresql:// (both accept postgres:// too, but be explicit)."""
    return "postgresql://" + url.split("://", 1)[1]


def state_path(size: str) -> Path:
    return STATE_DIR / f"{database_name(size)}.json"


def save_state(size: str, state: dict) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    state_path(size).write_text(json.dumps(state, indent=2, default=str))


def load_state(size: str) -> dict:
    path = state_path(size)
    if not path.exists():
        raise SystemExit(
            f"{path} is missing: load the data first with "
            f"`.venv/bin/python -m bench.dataset --size {size.upper()}`"
        )
    return json.loads(path.read_text())


def server_env(db_url: str, settings_module: str = "stockflow.settings") -> dict[str, str]:
    """Environment of a production-like StockFlow process against a bench database."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE=settings_module,
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or BENCH_SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        # Plain HTTP on the loopback: no redirect to HTTPS, no secure-only cookies.
        STOCKFLOW_HTTPS="0",
        # The token throttle stays on (its cost is part of every request) with a rate that a
        # benchmark of a few minutes cannot reach.
        STOCKFLOW_THROTTLE_RATE=os.environ.get("STOCKFLOW_THROTTLE_RATE", "100000000/hour"),
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    env.pop("PYTEST_VERSION", None)
    return env


def setup_django(db_url: str, settings_module: str = "stockflow.settings") -> None:
    """Configure Django in this process against a bench database (before any model import)."""
    for key, value in server_env(db_url, settings_module).items():
        if key != "PYTHONPATH":
            os.environ[key] = value
    for path in (str(ROOT / "src"), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django

    django.setup()


def stop_process(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop a child started by these scripts, by its own pid (SIGTERM, then SIGKILL)."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def machine() -> dict:
    cores = os.cpu_count()
    mem_kb = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    # Other work on the machine skews every figure: the load average says how busy it was.
    return {
        "cores": cores,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self.start = now - self.start, now
        return round(elapsed, 3)


def cpu_busy_percent(seconds: float = 1.0) -> float:
    """Share of all cores busy over a short idle moment before a measurement: work of other
    processes on a shared machine shows here, and skews the figure that follows."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields), idle

    total_before, idle_before = sample()
    time.sleep(seconds)
    total_after, idle_after = sample()
    total = total_after - total_before
    return round(100 * (1 - (idle_after - idle_before) / total), 1) if total else 0.0
