"""Server time of the web app's dashboard on a bench dataset.

    .venv/bin/python -m bench.web_dashboard --size M [--repeat 40]

Loads nothing: run ``python -m bench.dataset --size M`` first (``BENCH_DB_PREFIX`` names the
databases). Migrates the bench database (the web app's own table), collects the static files
as a deployment does, logs in as the company's owner (a session, as a browser has) and
serves ``GET /c/<company>/`` through Django's test client: every middleware, the view, its
queries and the templates, without HTTP or a network. Prints one JSON line per variant
(every warehouse; the busiest warehouse's chart): ``p50_ms``, ``p95_ms``, queries per request
and the database time of the slowest statements.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import cpu_busy_percent, emit, load_state, machine, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=str.upper, choices=["S", "M", "L"], required=True)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    state = load_state(args.size)
    setup_django(state["database_url"])

    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from stockflow.tenancy.models import Membership, Role

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    company_id = state["company_id"]
    owner = (
        Membership.objects.filter(company_id=company_id, role=Role.OWNER)
        .select_related("user")
        .first()
        .user
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(owner)
    warehouse_id = state["hot"]["warehouse_id"]
    variants = {
        # (path, whether the chart's cached sum of settled sales is dropped before each run)
        "all_warehouses": (f"/c/{company_id}/", False),
        "one_warehouse": (f"/c/{company_id}/?warehouse={warehouse_id}", False),
        "all_warehouses_cold_chart": (f"/c/{company_id}/", True),
    }
    for variant, (path, cold) in variants.items():
        response = client.get(path)  # warm-up: connection, templates, plans
        assert response.status_code == 200, (path, response.status_code)
        background = cpu_busy_percent()
        timings = []
        for _ in range(args.repeat if not cold else max(3, args.repeat // 4)):
            if cold:
                cache.clear()
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]
        timings.sort()
        emit(
            bench="web_dashboard",
            size=args.size,
            variant=variant,
            path=path,
            repeat=len(timings),
            p50_ms=round(statistics.median(timings), 1),
            p95_ms=round(timings[int(0.95 * (len(timings) - 1))], 1),
            max_ms=round(timings[-1], 1),
            queries_per_request=len(queries.captured_queries),
            db_ms_per_request=round(
                sum(float(q["time"]) for q in queries.captured_queries) * 1000, 1
            ),
            slowest_statements_ms=[
                {"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:120]} for q in slowest
            ],
            background_cpu_pct=background,
            **machine(),
        )


if __name__ == "__main__":
    main()
