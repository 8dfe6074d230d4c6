"""Statements prepared once per connection (``stockflow.prepared``), the sale's writes among
them: the same results as the statement run as written, the transaction's companies applied
at each execution, and a connection that stays usable after a failed one."""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from stockflow import prepared
from stockflow.tenancy import dbcontext
from tests.factories import make_product, quantity_of, stocked_shop, written_sql

pytestmark = pytest.mark.postgres


def prepared_here() -> dict[str, str]:
    """The statements prepared in this connection's server session: name -> text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'stockflow%%'"
        )
        return dict(cursor.fetchall())


def run(sql: str, params: list) -> tuple[list, list[str]]:
    """``sql`` through ``prepared.execute``: its rows, and the messages Django logged."""
    with CaptureQueriesContext(connection) as captured, connection.cursor() as cursor:
        prepared.execute(cursor, sql, params)
        rows = cursor.fetchall()
    return rows, [query["sql"] for query in captured.captured_queries]


def unique(sql: str) -> str:
    """``sql`` with a text no other test uses: its first execution in any connection."""
    return f"{sql} /* {uuid.uuid4().hex} */"


def test_a_statement_is_prepared_with_its_first_execution_then_only_executed(db):
    sql = unique("SELECT %s::int + 1, '%%'")

    first, first_log = run(sql, [1])
    again, again_log = run(sql, [41])

    assert first == [(2, "%")] and again == [(42, "%")]
    [prepare] = first_log  # one message: PREPARE, then EXECUTE
    [execute] = again_log
    name = execute.split("(")[0].removeprefix("EXECUTE ")
    assert prepare.startswith(f"PREPARE {name} AS SELECT $1::int + 1")
    assert f";\nEXECUTE {name}(1)" in prepare
    assert execute == f"EXECUTE {name}(41)"
    assert f"PREPARE {name} AS SELECT $1::int + 1, '%'" in prepared_here()[name]
    assert written_sql(prepare) == written_sql(execute) == sql


@pytest.mark.django_db(transaction=True)
def test_a_sale_writes_with_prepared_statements_and_the_same_answer(tenant_a):
    shop = stocked_shop(tenant_a, "A")
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 2}
    before = quantity_of(shop.mug, shop.main)

    tenant_a.staff.post("/api/sales", body, format="json")  # prepares, if this session has not
    with CaptureQueriesContext(connection) as captured:
        response = tenant_a.staff.post("/api/sales", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["ledger_entries"][0]["quantity_after"] == before - 4
    assert quantity_of(shop.mug, shop.main) == before - 4
    logged = [dbcontext.without_settings(query["sql"]) for query in captured.captured_queries]
    writes = [sql for sql in logged if sql.startswith("EXECUTE")]
    assert [written_sql(sql).split()[0] for sql in writes] == ["UPDATE", "INSERT", "INSERT"]
    assert not any("PREPARE" in sql for sql in logged)
    session = prepared_here()
    for sql in writes:
        name = sql.split("(")[0].removeprefix("EXECUTE ")
        # (the server shows the whole message the PREPARE came in)
        assert f"PREPARE {name} AS {written_sql(sql).split()[0]}" in session[name]


@override_settings(DATABASE_PREPARED_STATEMENTS=False)
@pytest.mark.django_db(transaction=True)
def test_with_prepared_statements_off_a_sale_runs_its_statements_as_written(tenant_a):
    shop = stocked_shop(tenant_a, "A")
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}

    with CaptureQueriesContext(connection) as captured:
        response = tenant_a.staff.post("/api/sales", body, format="json")

    assert response.status_code == 201, response.content
    logged = [dbcontext.without_settings(query["sql"]) for query in captured.captured_queries]
    assert [sql.split()[0] for sql in logged if "inventory_" in sql] == [
        "UPDATE",
        "INSERT",
        "INSERT",
    ]


@pytest.mark.without_company
def test_a_prepared_statement_sees_the_companies_of_each_transaction(tenant_a, tenant_b):
    """The policies are applied at each execution with the transaction's own companies:
    through the custom plans of the first executions and the generic plan after them."""
    make_product(tenant_a.company, "PREP-A1")
    make_product(tenant_a.company, "PREP-A2")
    make_product(tenant_b.company, "PREP-B1")
    sql = unique("SELECT sku FROM catalog_product WHERE sku LIKE %s ORDER BY sku")  # no company

    seen = []
    for round_no in range(8):
        tenant = (tenant_a, tenant_b)[round_no % 2]
        with transaction.atomic(), dbcontext.tenant([tenant.company.pk]):
            rows, _ = run(sql, ["PREP-%%"])
            seen.append([sku for (sku,) in rows])
    with transaction.atomic(), dbcontext.maintenance():
        everyone, _ = run(sql, ["PREP-%%"])

    assert seen == [["PREP-A1", "PREP-A2"], ["PREP-B1"]] * 4
    assert [sku for (sku,) in everyone] == ["PREP-A1", "PREP-A2", "PREP-B1"]


def test_after_a_prepare_that_failed_the_statement_is_prepared_again(db):
    table = f"later_{uuid.uuid4().hex[:12]}"
    sql = unique(f"SELECT count(*) FROM {table} WHERE n > %s")

    with pytest.raises(DatabaseError), transaction.atomic():
        run(sql, [0])  # the table does not exist yet: the PREPARE fails
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} (n int)")
        cursor.execute(f"INSERT INTO {table} VALUES (1), (2), (3)")

    assert run(sql, [1])[0] == [(2,)]
    assert run(sql, [2])[0] == [(1,)]


def test_after_an_execution_that_failed_the_statement_is_not_prepared_twice(db):
    sql = unique("SELECT 12 / %s::int")

    with pytest.raises(DatabaseError), transaction.atomic():
        run(sql, [0])  # prepared, then division by zero

    rows, log = run(sql, [4])
    assert rows == [(3,)]
    assert log[-1].startswith("EXECUTE stockflow_") and not any("PREPARE" in e for e in log)
