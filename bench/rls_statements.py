"""What row-level security costs the database on a sale, on one connection, without HTTP.

    .venv/bin/python -m bench.rls_statements --size M

One sale through the API, in this process (Django's test client, ``DATABASE_PREPARED_STATEMENTS``
off), records the three statements of the fast path as PostgreSQL receives them, the values
written in. One connection per variant then replays them in a transaction (``BEGIN``, the
three, ``COMMIT``), ``--sales`` times per round, in alternated rounds; the backend's own CPU
per sale is read from ``/proc`` (the client's work is not counted):

* ``written_off`` — the statements as written, as the bench's superuser, no settings (row
  security off);
* ``written_on`` — the same after the transaction's settings (``SET LOCAL`` of the role
  ``stockflow_app`` and the companies, in the first statement's message, as
  ``tenancy.dbcontext`` sends them);
* ``prepared_off`` / ``prepared_on`` — each statement prepared once on the connection and
  executed (``stockflow.prepared``: parsed, rewritten and planned once);
* ``prepared_settings_only`` — the settings sent with the role ``none`` (the connection
  stays the superuser): what sending them costs;
* ``prepared_bypass`` — the settings with ``stockflow_maintenance``, which is no superuser
  and bypasses the policies: the privilege checks that a superuser skips.

Each replayed sale takes one unit from the dataset's hot level (which holds millions).
Load the dataset first (``python -m bench.dataset --size M``)."""

from __future__ import annotations

import argparse
import statistics

import psycopg

from bench.common import emit, libpq_url, load_state, machine, setup_django
from bench.run import process_cpu_seconds

VARIANTS = {
    # name: (prepared, role set for the transaction or None)
    "written_off": (False, None),
    "written_on": (False, "stockflow_app"),
    "prepared_off": (True, None),
    "prepared_on": (True, "stockflow_app"),
    "prepared_settings_only": (True, "none"),
    "prepared_bypass": (True, "stockflow_maintenance"),
}


def record_sale(state: dict) -> list[str]:
    """The fast path's three statements for one sale of the hot level, values written in."""
    setup_django(state["database_url"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from rest_framework.test import APIClient

    from stockflow.tenancy.dbcontext import without_settings

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {state['token']}")
    hot = state["hot"]
    body = {"product_id": hot["product_id"], "warehouse_id": hot["warehouse_id"], "quantity": 1}
    with (
        override_settings(DATABASE_PREPARED_STATEMENTS=False, ALLOWED_HOSTS=["testserver"]),
        CaptureQueriesContext(connection) as captured,
    ):
        response = client.post("/api/sales", body, format="json")
    assert response.status_code == 201, response.content
    written = [without_settings(query["sql"]).strip() for query in captured.captured_queries]
    writes = [sql for sql in written if sql.startswith(("UPDATE", "INSERT"))]
    assert [sql.split()[0] for sql in writes] == ["UPDATE", "INSERT", "INSERT"], written
    return writes


class Replay:
    """One connection replaying the sale in one variant."""

    def __init__(self, url: str, statements: list[str], company_id: int, variant: str) -> None:
        prepared, role = VARIANTS[variant]
        self.conn = psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor)
        self.conn.execute("SET jit = off")  # as the service's connections (dburl.py)
        self.pid = self.conn.info.backend_pid
        if prepared:
            for number, sql in enumerate(statements):
                self.conn.execute(f"PREPARE sale_{number} AS {sql}")
            statements = [f"EXECUTE sale_{number}" for number in range(len(statements))]
        if role is not None:
            from stockflow.tenancy.dbcontext import settings_sql

            statements = [settings_sql(role, [company_id]) + statements[0], *statements[1:]]
        self.statements = statements

    def sales(self, count: int) -> float:
        """Backend CPU milliseconds per sale over ``count`` sales."""
        cursor = self.conn.cursor()
        before = process_cpu_seconds([self.pid])
        for _ in range(count):
            cursor.execute("BEGIN")
            for sql in self.statements:
                cursor.execute(sql)
                while cursor.nextset():  # past the settings' results, to the statement's
                    pass
                assert cursor.fetchone() is not None, sql
            cursor.execute("COMMIT")
        return (process_cpu_seconds([self.pid]) - before) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="M")
    parser.add_argument("--sales", type=int, default=2000, help="sales per variant and round")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = args.variants.split(",")
    state = load_state(args.size.upper())
    statements = record_sale(state)
    emit(bench="machine", **machine())
    replays = {
        name: Replay(libpq_url(state["database_url"]), statements, state["company_id"], name)
        for name in variants
    }
    for replay in replays.values():
        replay.sales(100)  # warm: caches, and the prepared statements' generic plans
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for round_no in range(1, args.rounds + 1):
        order = variants if round_no % 2 else variants[::-1]
        for name in order:
            samples[name].append(replays[name].sales(args.sales))
        emit(
            bench="rls_statements",
            round=round_no,
            **{name: round(samples[name][-1], 4) for name in variants},
        )
    base = variants[0]
    for name in variants:
        ratios = [a / b for a, b in zip(samples[name], samples[base], strict=True)]
        emit(
            bench="rls_statements",
            size=args.size.upper(),
            variant=name,
            backend_cpu_ms_per_sale=round(statistics.median(samples[name]), 4),
            median_round_ratio_to=base,
            ratio=round(statistics.median(ratios), 3),
        )
    for replay in replays.values():
        replay.conn.close()


if __name__ == "__main__":
    main()
