"""What row-level security costs: the sale and the low-stock report with it on and off.

    .venv/bin/python -m bench.rls --sizes M,L

Two API servers of the same build on one loaded database, one with ``STOCKFLOW_RLS=1`` (the
default: each transaction switches to ``stockflow_app`` with the caller's companies), one
with ``STOCKFLOW_RLS=0`` (the connection's superuser, which row security never binds).
Rounds alternate on, off, on, off… so that the shared machine's noise falls on both alike;
the summary gives the ratio of the medians and the median of each round's ratio.
Per round it prints the sales' CPU per request (gunicorn workers and PostgreSQL backends,
``bench.run``'s figures) and the report's p50, then per size the medians and the ratio
on/off. Load the datasets first (``python -m bench.dataset --size M``).

Each round starts its servers afresh (and warms them): a pair of servers kept for a whole
run can favour one of them in every round (where its processes landed, what they cached),
which alternating the rounds does not cancel. ``--control`` runs both servers with row
security off: the ratio the measurement gives by itself (expected 1.00)."""

from __future__ import annotations

import argparse
import statistics

from bench.common import emit, load_state, machine
from bench.run import (
    ALERTS_PATH,
    SALES_PATH,
    Gunicorn,
    default_workers,
    drive_sales,
    warm_up,
    write_targets,
)

MODES = ("on", "off")


def server(state: dict, mode: str, args) -> Gunicorn:
    started = Gunicorn(state["database_url"], workers=args.workers)
    started.env["STOCKFLOW_RLS"] = "1" if mode == "on" and not args.control else "0"
    return started


def sale_round(server: Gunicorn, spread, state: dict, args) -> dict:
    figures = drive_sales(server, SALES_PATH, spread, state["token"], args)
    return {
        "rps": figures["rps"],
        "non_2xx": figures["non_2xx"],
        "cpu_ms_per_req": round(
            (figures["worker_cpu_ms_per_req"] or 0) + (figures["db_cpu_ms_per_req"] or 0), 3
        ),
        "worker_cpu_ms_per_req": figures["worker_cpu_ms_per_req"],
        "db_cpu_ms_per_req": figures["db_cpu_ms_per_req"],
        "background_cpu_pct": figures["background_cpu_pct"],
    }


def report_round(server: Gunicorn, state: dict, args) -> dict:
    path = ALERTS_PATH.format(company_id=state["company_id"])
    get = {"connections": 1, "threads": 1, "timeout_s": 60}
    figures = server.drive(path, "get.lua", [state["token"]], duration=args.report_duration, **get)
    return {
        "p50_ms": figures["p50_ms"],
        "requests": figures["requests"],
        "non_2xx": figures["non_2xx"],
        "background_cpu_pct": figures["background_cpu_pct"],
    }


def measure(size: str, args) -> None:
    state = load_state(size)
    path = ALERTS_PATH.format(company_id=state["company_id"])
    samples: dict[tuple[str, str], list[float]] = {}
    for round_no in range(1, args.rounds + 1):
        # Levels that still hold stock, chosen again each round: every sale of the run is a
        # plain one (a level sold out would answer 409 by the complete path).
        spread, _ = write_targets(state)
        # on, off in odd rounds; off, on in even ones: neither always goes first.
        for mode in MODES if round_no % 2 else MODES[::-1]:
            with server(state, mode, args) as running:
                warm_up(running, SALES_PATH, spread, state["token"], args)
                sale = sale_round(running, spread, state, args)
                emit(bench="rls", size=size, part="sale", rls=mode, round=round_no, **sale)
                samples.setdefault(("sale", mode), []).append(sale["cpu_ms_per_req"])
                running.drive(path, "get.lua", [state["token"]], duration=3, connections=1)
                report = report_round(running, state, args)
                emit(bench="rls", size=size, part="report", rls=mode, round=round_no, **report)
                samples.setdefault(("report", mode), []).append(report["p50_ms"])
    for part, unit in (("sale", "cpu_ms_per_req"), ("report", "p50_ms")):
        on = statistics.median(samples[(part, "on")])
        off = statistics.median(samples[(part, "off")])
        # Each round's on/off ratio, taken back to back: a drift in the machine's speed over
        # the run (shared cores, stolen time) falls on both terms of a ratio alike.
        paired = [a / b for a, b in zip(samples[(part, "on")], samples[(part, "off")], strict=True)]
        emit(
            bench="rls",
            size=size,
            part=part,
            summary=unit,
            median_on=round(on, 3),
            median_off=round(off, 3),
            on_over_off=round(on / off, 3),
            median_round_ratio=round(statistics.median(paired), 3),
            round_ratios=[round(ratio, 3) for ratio in paired],
            control=args.control,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="M,L", type=lambda text: text.upper().split(","))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=10, help="seconds of sales per round")
    parser.add_argument("--report-duration", type=int, default=10, help="seconds of GETs")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument(
        "--control", action="store_true", help="both servers with row security off (A/A)"
    )
    args = parser.parse_args()
    emit(bench="machine", **machine(), workers=args.workers, control=args.control)
    for size in args.sizes:
        measure(size, args)


if __name__ == "__main__":
    main()
