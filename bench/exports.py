"""Export benchmark: the CSV export of a loaded company's whole ledger (6.0 M entries at L),
GET /api/companies/{id}/exports/ledger through gunicorn (one sync worker, DEBUG off), read
by one client to the end.

Prints JSON lines: the rows and bytes received, the wall time, rows and MB per second, and
the CPU time of the worker and of the database (on a shared machine, rows per
worker CPU second says more than the wall time), and the worker's resident memory (``VmRSS`` of /proc/<pid>/status) sampled every
``--sample-seconds`` during the export: before the request, its first and last samples, the
lowest and highest, and ``growth_mb`` (highest − first sample: what the streaming keeps).
Each sample is also printed (``--samples``).

    .venv/bin/python -m bench.dataset --size L
    .venv/bin/python -m bench.exports --size L
"""

from __future__ import annotations

import argparse
import http.client
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import cpu_busy_percent, database_url, emit, load_state, machine
from bench.run import Gunicorn, database_backend_pids, process_cpu_seconds

BLOCK_BYTES = 1 << 16


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return round(int(match.group(1)) / 1024, 1) if match else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="L")
    parser.add_argument("--export", default="ledger", help="products, stock_levels, ledger…")
    parser.add_argument("--sample-seconds", type=float, default=1.0)
    parser.add_argument("--samples", action="store_true", help="print every RSS sample")
    # A 6 M row export runs for minutes: the worker must not be killed midway.
    parser.add_argument("--worker-timeout", type=int, default=1800)
    args = parser.parse_args()
    state = load_state(args.size)
    path = f"/api/companies/{state['company_id']}/exports/{args.export}"
    emit(event="machine", **machine(), background_cpu_pct=cpu_busy_percent())
    with Gunicorn(database_url(args.size), workers=1, timeout=args.worker_timeout) as server:
        (worker,) = server.worker_pids()
        before = rss_mb(worker)
        database = urlsplit(database_url(args.size)).path.lstrip("/")
        parts = urlsplit(server.base_url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        started = time.perf_counter()
        worker_cpu = process_cpu_seconds([worker])
        connection.request("GET", path, headers={"Authorization": f"Bearer {state['token']}"})
        response = connection.getresponse()
        if response.status != 200:
            raise SystemExit(f"{response.status}: {response.read()[:500]!r}")
        lines = received = 0
        samples: list[tuple[float, int, float]] = []
        next_sample = time.perf_counter()
        while block := response.read(BLOCK_BYTES):
            lines += block.count(b"\n")
            received += len(block)
            now = time.perf_counter()
            if now >= next_sample:
                samples.append((round(now - started, 1), lines, rss_mb(worker)))
                next_sample = now + args.sample_seconds
        seconds = time.perf_counter() - started
        samples.append((round(seconds, 1), lines, rss_mb(worker)))
        worker_cpu = process_cpu_seconds([worker]) - worker_cpu
        # The backends' whole life: the worker's one connection, opened for this request.
        database_cpu = process_cpu_seconds(database_backend_pids(database))
        connection.close()
        peak = server.peak_rss_mb()
    if args.samples:
        for at, rows_so_far, rss in samples:
            emit(sample_at_s=at, rows=rows_so_far, rss_mb=rss)
    rows = lines - 1  # the header
    values = [rss for _, _, rss in samples]
    emit(
        export=args.export,
        size=args.size,
        rows=rows,
        megabytes=round(received / 1e6, 1),
        seconds=round(seconds, 1),
        rows_per_second=round(rows / seconds),
        megabytes_per_second=round(received / 1e6 / seconds, 1),
        worker_cpu_seconds=round(worker_cpu, 1),
        rows_per_worker_cpu_second=round(rows / worker_cpu) if worker_cpu else None,
        database_cpu_seconds=round(database_cpu, 1),
        rss_before_mb=before,
        rss_first_sample_mb=values[0],
        rss_last_mb=values[-1],
        rss_min_mb=min(values),
        rss_max_mb=max(values),
        growth_mb=round(max(values) - values[0], 1),
        worker_peak_rss_mb=peak,
        samples=len(values),
    )


if __name__ == "__main__":
    main()
