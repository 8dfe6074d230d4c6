"""Run the low-stock report once in-process and time its SQL alone.

    .venv/bin/python -m bench.probe --size M [--repeat 7] [--floor]

Serves GET /api/companies/{id}/alerts/low-stock through Django's test client (the whole
middleware and view stack, no HTTP), counts every query it makes, and picks out the report's
own statements: those issued from ``stockflow/alerts/selectors.py``. Those exact statements,
with their parameters, are then run again straight on the psycopg connection (client-side
binding, as Django does) to time the SQL alone. Prints one JSON line; ``available`` is false
while the endpoint does not exist. The statements are saved to var/bench/alerts-report-<size>.sql.
With --floor, the same is done for the bare Django stand-in of bench/floor/ (whose SQL is
bench/alerts_reference.sql, run from bench/floor/selectors.py).
"""

from __future__ import annotations

import argparse
import statistics
import time
import traceback

import psycopg

from bench.common import STATE_DIR, emit, load_state, setup_django

TARGETS = {
    # name: (settings module, path, file whose statements are the report's SQL)
    "http_api": (
        "stockflow.settings",
        "/api/companies/{company_id}/alerts/low-stock",
        "stockflow/alerts/selectors.py",
    ),
    "bare_django": (
        "bench.floor.settings",
        "/bench/floor/companies/{company_id}/alerts/low-stock",
        "bench/floor/selectors.py",
    ),
}
AUTH_FILES = ("stockflow/tenancy/",)


def issued_from(frames: list[str], suffix: str) -> bool:
    return any(name.replace("\\", "/").endswith(suffix) for name in frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=str.upper, choices=["S", "M", "L"], required=True)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--floor", action="store_true", help="probe the bare Django stand-in")
    args = parser.parse_args()
    state = load_state(args.size)
    settings_module, path_template, sql_file = TARGETS["bare_django" if args.floor else "http_api"]
    setup_django(state["database_url"], settings_module)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import Resolver404, resolve

    path = path_template.format(company_id=state["company_id"])
    try:
        resolve(path)
    except Resolver404:
        emit(available=False, reason=f"GET {path} does not exist on this build")
        return

    client = Client(HTTP_HOST="127.0.0.1", headers={"Authorization": f"Bearer {state['token']}"})
    response = client.get(path)
    if response.status_code != 200:
        emit(available=False, reason=f"GET {path} answered {response.status_code}")
        return

    captured: list[tuple[str, object, list[str]]] = []

    def record(execute, sql, params, many, context):
        frames = [frame.filename for frame in traceback.extract_stack()]
        captured.append((sql, params, frames))
        return execute(sql, params, many, context)

    in_process_ms = []
    for run in range(args.repeat):
        captured.clear()
        start = time.perf_counter()
        with connection.execute_wrapper(record), CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        in_process_ms.append((time.perf_counter() - start) * 1000)
        if run == 0:
            query_count = len(queries.captured_queries)
            statements = [(sql, params) for sql, params, _ in captured]
            report = [(sql, params) for sql, params, f in captured if issued_from(f, sql_file)]
            source = sql_file
            if not report:
                report = [
                    (sql, params)
                    for sql, params, f in captured
                    if not any(issued_from(f, part) or part in "".join(f) for part in AUTH_FILES)
                ]
                source = "every statement of the request but authentication and membership"
    body = response.json()

    # The psycopg connection under Django's: same adapters, time zone and client-side
    # binding, but none of Django's cursor wrapping, logging or execute wrappers.
    connection.ensure_connection()
    raw = connection.connection
    timings, saved = [], []
    for run in range(args.repeat + 1):
        start = time.perf_counter()
        with raw.cursor() as cursor:
            for sql, params in report:
                if params is None:
                    cursor.execute(sql)
                else:
                    cursor.execute(sql, params)
                if cursor.description is not None:
                    cursor.fetchall()
                if run == 0:
                    saved.append(psycopg.ClientCursor(raw).mogrify(sql, params) + ";\n")
        if run:  # the first run warms the cache
            timings.append((time.perf_counter() - start) * 1000)
    name = f"alerts-{'floor' if args.floor else 'report'}-{args.size.lower()}.sql"
    (STATE_DIR / name).write_text("\n".join(saved))

    emit(
        available=True,
        query_count=query_count,
        statements=len(statements),
        report_statements=len(report),
        sql_source=source,
        total_alerts=body.get("total_alerts"),
        in_process_p50_ms=round(statistics.median(in_process_ms), 1),
        sql_p50_ms=round(statistics.median(timings), 1),
        sql_max_ms=round(max(timings), 1),
        sql_runs=len(timings),
    )


if __name__ == "__main__":
    main()
