"""The benchmark harness: serve StockFlow with gunicorn on 127.0.0.1, drive it with wrk,
compare with the floors the database and the framework set, print JSON lines.

    .venv/bin/python -m bench.run writes   --size M     # POST /api/sales vs the two floors
    .venv/bin/python -m bench.run alerts   --sizes S,M,L # the low-stock report
    .venv/bin/python -m bench.run products --size S     # POST /api/products
    .venv/bin/python -m bench.run floor    --size M     # the two write floors only

Load the data first (`python -m bench.dataset --size M`) and install wrk (`bench/setup.sh`).
Every load is bounded (fixed duration, request timeouts), targets 127.0.0.1 only, and every
process started here is stopped here, by its pid. An endpoint that does not exist yet is
reported as "not measured yet" and the run goes on with the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from bench.common import (
    BENCH_DIR,
    ROOT,
    STATE_DIR,
    VENV_BIN,
    cpu_busy_percent,
    emit,
    libpq_url,
    load_state,
    machine,
    server_env,
    stop_process,
)

CONNECTIONS = 16
DURATION = 15
WARMUP = 3
ROUNDS = 3
MAX_ALERTS_DURATION = 90
SPREAD_TARGETS = 10_000
MIN_TARGET_STOCK = 20
FLOOR_SETTINGS = "bench.floor.settings"
SALES_PATH = "/api/sales"
FLOOR_PATH = "/bench/floor/sale"
PRODUCTS_PATH = "/api/products"
ALERTS_PATH = "/api/companies/{company_id}/alerts/low-stock"
FLOOR_ALERTS_PATH = "/bench/floor/companies/{company_id}/alerts/low-stock"


def default_workers() -> int:
    return 2 * (os.cpu_count() or 1) + 1


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes (those gone meanwhile count as nothing)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def database_backend_pids(database: str) -> list[int]:
    """PostgreSQL backends serving one database (their title names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            pids.append(int(entry.name))
    return pids


class Gunicorn:
    """gunicorn serving stockflow.wsgi on 127.0.0.1, as scripts/run.sh does, with sync
    workers and DEBUG off; stopped by its pid on exit."""

    def __init__(
        self,
        db_url: str,
        *,
        settings: str = "stockflow.settings",
        workers: int,
        redis_url: str = "",
        timeout: int = 120,
    ) -> None:
        self.timeout = timeout
        self.database = urlsplit(db_url).path.lstrip("/")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = server_env(db_url, settings)
        # The shared cache (rate limits) in Redis, else in each process.
        self.env.pop("REDIS_URL", None)
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        # Open for the life of the server; closed in __exit__.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="gunicorn-", suffix=".log", dir=STATE_DIR, delete=False
        )
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        command = [
            str(VENV_BIN / "gunicorn"),
            "stockflow.wsgi:application",
            "--pythonpath",
            "src",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            # A slow report must be measured, not killed by the default 30 s worker timeout.
            "--timeout",
            str(self.timeout),
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as answer:
                    if answer.status == 200 and len(self.worker_pids()) >= self.workers:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        stop_process(self.proc)
        raise RuntimeError(f"gunicorn did not answer within 30 s: see {self.log.name}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        self.log.close()
        if exc[0] is None:
            Path(self.log.name).unlink(missing_ok=True)

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The parent pid is the 2nd field after the parenthesised command name.
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                pids.append(int(entry.name))
        return pids

    def peak_rss_mb(self) -> float | None:
        peaks = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                peaks.append(int(match.group(1)) / 1024)
        return round(max(peaks), 1) if peaks else None

    def drive(self, path: str, script: str, script_args: list[str], **wrk_options) -> dict:
        """One wrk run against this server, with the CPU time the workers and the database
        backends spent per request: a cost that a busy machine skews far less than the
        throughput."""
        backends = database_backend_pids(self.database)
        workers = self.worker_pids()
        before = process_cpu_seconds(workers), process_cpu_seconds(backends)
        figures = run_wrk(self.base_url + path, script, script_args, **wrk_options)
        after = process_cpu_seconds(workers), process_cpu_seconds(backends)
        requests = max(figures["requests"], 1)
        figures["worker_cpu_ms_per_req"] = round((after[0] - before[0]) * 1000 / requests, 2)
        figures["db_cpu_ms_per_req"] = round((after[1] - before[1]) * 1000 / requests, 2)
        return figures

    def request(self, method: str, path: str, token: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=120) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def route_exists(server: Gunicorn, method: str, path: str, token: str) -> bool:
    """An endpoint exists when the server does not answer 404/405 to a probe request (an
    empty body: a real endpoint answers 400 and writes nothing)."""
    status, _ = server.request(method, path, token, {} if method == "POST" else None)
    return status not in (404, 405)


def run_wrk(
    url: str,
    script: str,
    script_args: list[str],
    *,
    connections: int,
    duration: int,
    threads: int = 2,
    timeout_s: int = 10,
) -> dict:
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(BENCH_DIR / "wrk" / script),
        url,
        "--",
        *script_args,
    ]
    background = cpu_busy_percent()
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=duration + timeout_s + 60
    )
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            figures = json.loads(line.removeprefix("WRK_JSON "))
            figures["non_2xx"] = {
                status: count
                for status, count in figures["statuses"].items()
                if not status.startswith("2")
            }
            figures["background_cpu_pct"] = background
            return figures
    raise RuntimeError(f"wrk printed no figures:\n{done.stdout}\n{done.stderr}")


def require_tools(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: run `bash bench/setup.sh` first")


# ---------------------------------------------------------------- writes


def write_targets(state: dict) -> tuple[Path, Path]:
    """Files of "product_id warehouse_id" lines: many levels with stock, and the hot one."""
    with psycopg.connect(libpq_url(state["database_url"])) as conn:
        rows = conn.execute(
            """
            SELECT sl.product_id, sl.warehouse_id
            FROM inventory_stocklevel sl
            JOIN catalog_product p ON p.id = sl.product_id
            JOIN catalog_warehouse w ON w.id = sl.warehouse_id
            WHERE sl.company_id = %s AND p.is_active AND NOT p.is_bundle AND w.is_active
              AND sl.quantity >= %s AND sl.id <> %s
            ORDER BY md5(sl.id::text)
            LIMIT %s
            """,
            [state["company_id"], MIN_TARGET_STOCK, state["hot"]["stock_level_id"], SPREAD_TARGETS],
        ).fetchall()
    spread = STATE_DIR / f"targets-{state['size'].lower()}-spread.txt"
    spread.write_text("".join(f"{p} {w}\n" for p, w in rows))
    hot = STATE_DIR / f"targets-{state['size'].lower()}-hot.txt"
    hot.write_text(f"{state['hot']['product_id']} {state['hot']['warehouse_id']}\n")
    return spread, hot


def max_sale_id(state: dict) -> int:
    with psycopg.connect(libpq_url(state["database_url"])) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM inventory_sale").fetchone()[0]


def run_pgbench(state: dict, *, hot: bool, clients: int, duration: int) -> dict:
    background = cpu_busy_percent()
    before = max_sale_id(state)
    with tempfile.TemporaryDirectory(prefix="pgbench-", dir=STATE_DIR) as logs:
        command = [
            "pgbench",
            "--no-vacuum",
            f"--client={clients}",
            "--jobs=2",
            f"--time={duration}",
            "--protocol=prepared",
            f"--file={BENCH_DIR / 'sale.pgbench'}",
            f"--define=levels={state['stock_levels']}",
            f"--define=hot={state['hot']['stock_level_id'] if hot else 0}",
            f"--define=uid={state['user_id']}",
            "--log",
            f"--log-prefix={logs}/tx",
            libpq_url(state["database_url"]),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
        latencies_us = []
        for log in Path(logs).glob("tx*"):
            with log.open() as lines:
                latencies_us.extend(int(line.split()[2]) for line in lines)
    tps = float(re.search(r"tps = ([\d.]+)", done.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    return {
        "tps": round(tps, 1),
        "transactions": len(latencies_us),
        "sales_recorded": max_sale_id(state) - before,
        "failed_transactions": int(failed.group(1)) if failed else 0,
        **latency_percentiles([us / 1000 for us in latencies_us]),
        "background_cpu_pct": background,
    }


def latency_percentiles(samples_ms: list[float]) -> dict:
    if not samples_ms:
        return {"p50_ms": None, "p95_ms": None}
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50_ms": pick(0.50), "p95_ms": pick(0.95), "max_ms": round(ordered[-1], 2)}


def warm_up(server: Gunicorn, path: str, targets: Path, token: str, args) -> None:
    server.drive(
        path, "sale.lua", [str(targets), token], connections=args.connections, duration=WARMUP
    )


def drive_sales(server: Gunicorn, path: str, targets: Path, token: str, args) -> dict:
    return server.drive(
        path,
        "sale.lua",
        [str(targets), token],
        connections=args.connections,
        duration=args.duration,
    )


def sale_figures(label: str, mode: str, figures: dict, size: str, round_no: int) -> dict:
    unexpected = {
        key: count
        for key, count in figures["error_codes"].items()
        if key != "409:insufficient_stock"
    }
    line = {
        "bench": "writes",
        "size": size,
        "target": label,
        "mode": mode,
        "round": round_no,
        "rps": figures["rps"],
        "p50_ms": figures["p50_ms"],
        "p95_ms": figures["p95_ms"],
        "requests": figures["requests"],
        "non_2xx": figures["non_2xx"],
        "error_codes": figures["error_codes"],
        "unexpected_errors": sum(unexpected.values()),
        "socket_errors": {k: v for k, v in figures["socket_errors"].items() if v},
        "worker_cpu_ms_per_req": figures["worker_cpu_ms_per_req"],
        "db_cpu_ms_per_req": figures["db_cpu_ms_per_req"],
        "background_cpu_pct": figures["background_cpu_pct"],
    }
    if "cache" in figures:
        line["cache"] = figures["cache"]
    emit(**line)
    return line


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)


def verify_ledger_sql(state: dict) -> dict:
    """The ledger invariant checked in SQL: sum of changes = quantity; quantity_after chains."""
    with psycopg.connect(libpq_url(state["database_url"])) as conn:
        bad_sum = conn.execute(
            """
            SELECT count(*) FROM inventory_stocklevel sl
            LEFT JOIN (SELECT stock_level_id, sum(change) AS total FROM inventory_ledgerentry
                       GROUP BY stock_level_id) l ON l.stock_level_id = sl.id
            WHERE sl.quantity <> coalesce(l.total, 0) OR sl.quantity < 0
            """
        ).fetchone()[0]
        bad_chain = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT change, quantity_after,
                       lag(quantity_after, 1, 0::bigint)
                           OVER (PARTITION BY stock_level_id ORDER BY id) AS before
                FROM inventory_ledgerentry) entries
            WHERE before + change <> quantity_after
            """
        ).fetchone()[0]
    return {"passed": bad_sum == 0 and bad_chain == 0, "bad_sums": bad_sum, "bad_chains": bad_chain}


def verify_stock_command(state: dict) -> dict:
    env = server_env(state["database_url"])
    done = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "verify_stock"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = (done.stdout + done.stderr).strip()
    if "Unknown command" in output:
        return {"available": False, "passed": None, "note": "not measured yet"}
    return {"available": True, "passed": done.returncode == 0, "output": output[-500:]}


# Figures summarised over the rounds: the median, and the spread (lowest, highest).
SUMMARISED = ("rps", "tps", "p50_ms", "p95_ms", "worker_cpu_ms_per_req", "db_cpu_ms_per_req")


def summary(size: str, target: str, mode: str, lines: list[dict]) -> dict:
    figures: dict = {}
    for name in SUMMARISED:
        values = [line[name] for line in lines if line.get(name) is not None]
        if values:
            figures[name] = {
                "median": round(statistics.median(values), 2),
                "min": min(values),
                "max": max(values),
            }
    costs = [
        line["worker_cpu_ms_per_req"] + line["db_cpu_ms_per_req"]
        for line in lines
        if line.get("worker_cpu_ms_per_req") is not None
    ]
    if costs:
        figures["cpu_ms_per_req"] = {
            "median": round(statistics.median(costs), 2),
            "min": round(min(costs), 2),
            "max": round(max(costs), 2),
        }
    line = {
        "bench": "writes",
        "size": size,
        "summary": target,
        "mode": mode,
        "rounds": len(lines),
        **figures,
        "unexpected_errors": sum(line.get("unexpected_errors", 0) for line in lines),
        "background_cpu_pct": [line["background_cpu_pct"] for line in lines],
    }
    emit(**line)
    return line


def measure_writes(state: dict, args, *, with_api: bool) -> dict[tuple[str, str], dict]:
    """Every target of the write benchmark, in interleaved rounds: in each round, for each mode
    (spread, hot), the raw SQL floor, the bare Django floor, then the API. A transient stall of
    the shared machine then lands on one sample of each target at most, not on all the samples
    of one target. Prints each sample, then per target and mode the median and spread."""
    size = state["size"]
    spread, hot = write_targets(state)
    modes = (("spread", spread, False), ("hot", hot, True))
    samples: dict[tuple[str, str], list[dict]] = {}
    with contextlib.ExitStack() as servers:
        floor = servers.enter_context(
            Gunicorn(state["database_url"], settings=FLOOR_SETTINGS, workers=args.workers)
        )
        paths = {"bare_django": (floor, FLOOR_PATH)}
        # One API server per cache of the rate limits (``--caches``): the first is
        # ``http_api`` (the ratios are of it), another ``http_api_<cache>``, in the same rounds.
        caches = (
            list(dict.fromkeys(getattr(args, "caches", None) or ["locmem"])) if with_api else []
        )
        for index, cache in enumerate(caches):
            redis_url = args.redis_url if cache == "redis" else ""
            api = servers.enter_context(
                Gunicorn(state["database_url"], workers=args.workers, redis_url=redis_url)
            )
            label = "http_api" if index == 0 else f"http_api_{cache}"
            if route_exists(api, "POST", SALES_PATH, state["token"]):
                paths[label] = (api, SALES_PATH)
            else:
                emit(
                    bench="writes",
                    size=size,
                    target="http_api",
                    status="not measured yet",
                    reason=f"POST {SALES_PATH} does not exist on this build",
                )
        for server, path in paths.values():
            warm_up(server, path, spread, state["token"], args)
        for round_no in range(1, args.rounds + 1):
            # The servers in turn, in the opposite order every other round: neither cache of
            # the rate limits always runs right after the other.
            servers_in_turn = list(paths.items())[:: 1 if round_no % 2 else -1]
            for mode, targets, is_hot in modes:
                figures = run_pgbench(
                    state, hot=is_hot, clients=args.connections, duration=args.duration
                )
                line = {"bench": "writes", "size": size, "target": "raw_sql", "mode": mode}
                line.update(round=round_no, **figures)
                emit(**line)
                samples.setdefault(("raw_sql", mode), []).append(line)
                for label, (server, path) in servers_in_turn:
                    figures = drive_sales(server, path, targets, state["token"], args)
                    line = sale_figures(label, mode, figures, size, round_no)
                    samples.setdefault((label, mode), []).append(line)
        # The floor server answering its health check (one SELECT 1, nothing written): what
        # Django, the middleware and gunicorn cost before any work of the endpoint.
        figures = floor.drive(
            "/healthz", "get.lua", [state["token"]], connections=args.connections, duration=5
        )
        sale_figures("healthz", "no_write", figures, size, 1)
    return {
        (target, mode): summary(size, target, mode, lines)
        for (target, mode), lines in samples.items()
    }


def median_of(summaries: dict, target: str, mode: str) -> float | None:
    line = summaries.get((target, mode))
    if line is None:
        return None
    figure = line.get("tps") or line.get("rps")
    return figure["median"] if figure else None


def emit_ratios(size: str, summaries: dict) -> None:
    """Ratios of the median throughputs."""
    for mode in ("spread", "hot"):
        http = median_of(summaries, "http_api", mode)
        bare = median_of(summaries, "bare_django", mode)
        raw = median_of(summaries, "raw_sql", mode)
        emit(
            bench="writes",
            size=size,
            mode=mode,
            ratios={
                "http/bare_django": ratio(http, bare),
                "http/raw_sql": ratio(http, raw),
                "bare_django/raw_sql": ratio(bare, raw),
            },
        )


def command_floor(args) -> None:
    require_tools("wrk", "pgbench")
    state = load_state(args.size)
    emit(bench="machine", **machine(), workers=args.workers, rounds=args.rounds)
    summaries = measure_writes(state, args, with_api=False)
    emit_ratios(state["size"], summaries)
    emit(
        bench="writes", size=state["size"], check="ledger_invariant_sql", **verify_ledger_sql(state)
    )


def command_writes(args) -> None:
    require_tools("wrk", "pgbench")
    state = load_state(args.size)
    size = state["size"]
    emit(bench="machine", **machine(), workers=args.workers, rounds=args.rounds)
    summaries = measure_writes(state, args, with_api=True)
    emit_ratios(size, summaries)
    emit(bench="writes", size=size, check="verify_stock", **verify_stock_command(state))
    emit(bench="writes", size=size, check="ledger_invariant_sql", **verify_ledger_sql(state))


# ---------------------------------------------------------------- alerts


def reference_sql_timing(
    state: dict, repeat: int, window_days: int, *, sql_file: str = "alerts_reference.sql", **gucs
) -> dict:
    """Time a reference query through psycopg: one warm-up, then `repeat` runs. `gucs` are
    session settings for the measurement (e.g. jit="off")."""
    sql = (BENCH_DIR / sql_file).read_text()
    params = {"company_id": state["company_id"], "window_days": window_days}
    timings, rows = [], 0
    background = cpu_busy_percent()
    with psycopg.connect(libpq_url(state["database_url"]), autocommit=True) as conn:
        for name, value in gucs.items():
            conn.execute(f"SET {name} = '{value}'")
        conn.execute(sql, params).fetchall()  # warm the cache and the plan
        for _ in range(repeat):
            start = time.perf_counter()
            rows = len(conn.execute(sql, params).fetchall())
            timings.append((time.perf_counter() - start) * 1000)
    return {
        "sql": sql_file,
        "settings": gucs or "server defaults",
        "alerts": rows,
        **summarise(timings),
        "background_cpu_pct": background,
    }


def summarise(timings_ms: list[float]) -> dict:
    return {
        "runs": len(timings_ms),
        "p50_ms": round(statistics.median(timings_ms), 1),
        **{k: v for k, v in latency_percentiles(timings_ms).items() if k != "p50_ms"},
    }


def probe_report(size: str, repeat: int, floor: bool) -> dict:
    done = subprocess.run(
        [
            str(VENV_BIN / "python"),
            "-m",
            "bench.probe",
            "--size",
            size,
            "--repeat",
            str(repeat),
            *(["--floor"] if floor else []),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"bench.probe failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[-1])


ALERT_TARGETS = {
    "bare_django": (FLOOR_SETTINGS, FLOOR_ALERTS_PATH),
    "http_api": ("stockflow.settings", ALERTS_PATH),
}


def alert_targets(text: str) -> list[str]:
    targets = [target.strip() for target in text.split(",") if target.strip()]
    unknown = set(targets) - set(ALERT_TARGETS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown target(s): {', '.join(sorted(unknown))}")
    return targets


def command_alerts(args) -> None:
    require_tools("wrk")
    emit(bench="machine", **machine(), workers=args.workers)
    for size in args.sizes:
        state = load_state(size)
        floor = reference_sql_timing(state, args.repeat, args.window_days)
        emit(bench="alerts", size=size, target="reference_sql", **floor)
        for target in args.targets:
            settings, path_template = ALERT_TARGETS[target]
            probe = probe_report(size, args.repeat, floor=target == "bare_django")
            if not probe.pop("available"):
                emit(
                    bench="alerts",
                    size=size,
                    target=target,
                    status="not measured yet",
                    reason=probe.get("reason"),
                )
                continue
            emit(bench="alerts", size=size, target=target, part="in_process", **probe)
            path = path_template.format(company_id=state["company_id"])
            pages = [("all", path), ("first_100", f"{path}?{args.first_page_query}")]
            # A slow report gets a longer run so that its percentiles rest on ~15 requests.
            duration = min(
                MAX_ALERTS_DURATION,
                max(args.alerts_duration, math.ceil(15 * probe["in_process_p50_ms"] / 1000)),
            )
            with Gunicorn(state["database_url"], settings=settings, workers=args.workers) as server:
                for label, page_path in pages:
                    get = {"connections": 1, "threads": 1, "timeout_s": 60}
                    server.drive(page_path, "get.lua", [state["token"]], duration=WARMUP, **get)
                    figures = server.drive(
                        page_path, "get.lua", [state["token"]], duration=duration, **get
                    )
                    emit(
                        bench="alerts",
                        size=size,
                        target=target,
                        part="http",
                        page=label,
                        p50_ms=figures["p50_ms"],
                        p95_ms=figures["p95_ms"],
                        requests=figures["requests"],
                        non_2xx=figures["non_2xx"],
                        http_over_sql=ratio(figures["p50_ms"], probe.get("sql_p50_ms"))
                        if label == "all"
                        else None,
                        worker_peak_rss_mb=server.peak_rss_mb(),
                        worker_cpu_ms_per_req=figures["worker_cpu_ms_per_req"],
                        db_cpu_ms_per_req=figures["db_cpu_ms_per_req"],
                        background_cpu_pct=figures["background_cpu_pct"],
                    )


# ---------------------------------------------------------------- products


def command_products(args) -> None:
    require_tools("wrk")
    state = load_state(args.size)
    emit(bench="machine", **machine(), workers=args.workers)
    with psycopg.connect(libpq_url(state["database_url"])) as conn:
        warehouses = [
            str(row[0])
            for row in conn.execute(
                "SELECT id FROM catalog_warehouse WHERE company_id = %s AND is_active ORDER BY id",
                [state["company_id"]],
            )
        ]
    with Gunicorn(state["database_url"], workers=args.workers) as server:
        if not route_exists(server, "POST", PRODUCTS_PATH, state["token"]):
            emit(
                bench="products",
                size=state["size"],
                target="http_api",
                status="not measured yet",
                reason=f"POST {PRODUCTS_PATH} does not exist on this build",
            )
            return
        nonce = f"{int(time.time()):x}"
        script_args = [state["token"], nonce + "w", ",".join(warehouses)]
        load = {"connections": args.connections}
        server.drive(PRODUCTS_PATH, "products.lua", script_args, duration=WARMUP, **load)
        script_args[1] = nonce
        figures = server.drive(
            PRODUCTS_PATH, "products.lua", script_args, duration=args.duration, **load
        )
    emit(
        bench="products",
        size=state["size"],
        target="http_api",
        rps=figures["rps"],
        p50_ms=figures["p50_ms"],
        p95_ms=figures["p95_ms"],
        requests=figures["requests"],
        non_2xx=figures["non_2xx"],
        error_codes=figures["error_codes"],
        worker_cpu_ms_per_req=figures["worker_cpu_ms_per_req"],
        db_cpu_ms_per_req=figures["db_cpu_ms_per_req"],
        background_cpu_pct=figures["background_cpu_pct"],
    )


# ---------------------------------------------------------------- entry point


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--workers", type=int, default=default_workers())
        p.add_argument("--connections", type=int, default=CONNECTIONS)
        p.add_argument("--duration", type=int, default=DURATION, help="seconds per measurement")

    for name, handler in (
        ("writes", command_writes),
        ("floor", command_floor),
        ("products", command_products),
    ):
        p = sub.add_parser(name)
        p.add_argument("--size", type=str.upper, choices=["S", "M", "L"], default="M")
        common(p)
        if handler is not command_products:
            p.add_argument(
                "--rounds",
                type=int,
                default=ROUNDS,
                help="interleaved rounds of every target (medians and spread are reported)",
            )
        p.set_defaults(handler=handler)
        if name == "writes":
            p.add_argument(
                "--caches",
                type=lambda text: [c.strip() for c in text.split(",")],
                default=["locmem"],
                help="locmem,redis: the sales once per cache of the rate limits, in one run",
            )
            p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")

    p = sub.add_parser("alerts")
    p.add_argument(
        "--sizes", type=lambda text: [s.strip().upper() for s in text.split(",")], default="S,M"
    )
    p.add_argument(
        "--targets",
        type=alert_targets,
        default="bare_django,http_api",
        help="bare_django (the stand-in of bench/floor), http_api (the real report); empty:"
        " the reference SQL only",
    )
    p.add_argument("--repeat", type=int, default=7, help="runs of the SQL alone")
    p.add_argument(
        "--first-page-query",
        default="limit=100",
        help="query string that asks the report for its first 100 alerts",
    )
    p.add_argument("--window-days", type=int, default=30, help="window of the reference SQL (days)")
    p.add_argument("--alerts-duration", type=int, default=20, help="seconds of GETs per page")
    common(p)
    p.set_defaults(handler=command_alerts)

    args = parser.parse_args()
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        args.handler(args)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
