"""Row-level security (PostgreSQL): the database shows a request or a task only its
companies' rows, even when the application forgets to filter.

The suite connects as the superuser, whom row security never binds; requests and tasks
switch to ``stockflow_app`` per transaction (``tenancy.dbcontext``), so these tests see what
production sees."""

from __future__ import annotations

import importlib
import importlib.util

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks.base import Task

from stockflow.catalog.models import Product
from stockflow.inventory.models import LedgerEntry, StockLevel
from stockflow.tenancy import dbcontext
from stockflow.tenancy.scoping import TenantScope
from tests.factories import (
    assert_error,
    make_product,
    make_warehouse,
    stocked_shop,
    tenant_models,
    written_sql,
)

pytestmark = pytest.mark.postgres

# The tasks about one company's object; every other task spans companies on purpose.
TENANT_TASKS = {
    "validate_import",
    "apply_import",
    "deliver_webhook",
    "send_order_to_supplier",
    "send_invitation",
    "send_password_reset",
}

# Tables with a company that are read before the company is known, or are a person's own
# (tenancy/migrations/0003_row_level_security.py).
PLATFORM_TABLES = {
    "tenancy_membership",
    "accounts_invitation",
    "web_userpreference",
    "catalog_skuregistration",
}


def row_security() -> dict[str, tuple[bool, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
            " WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
        )
        return {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}


def test_every_tenant_table_has_row_security_enabled_and_forced(db):
    tables = {model._meta.db_table for model in tenant_models()} - PLATFORM_TABLES
    assert len(tables) > 15
    security = row_security()
    assert {table: security[table] for table in tables} == dict.fromkeys(tables, (True, True))
    assert not any(security[table][0] for table in PLATFORM_TABLES)


@pytest.fixture
def unscoped(monkeypatch):
    """The application's own tenant filters switched off, as a bug would: only the
    database is left to keep companies apart."""
    monkeypatch.setattr(TenantScope, "filter", lambda self, queryset, *a, **k: queryset)
    monkeypatch.setattr(TenantScope, "sql_condition", lambda self, *a, **k: ("1 = 1", []))


@pytest.mark.without_company
def test_an_unscoped_query_in_a_request_sees_only_the_callers_companies(
    tenant_a, tenant_b, unscoped
):
    shop = stocked_shop(tenant_a, "A")
    other = stocked_shop(tenant_b, "B")

    products = tenant_a.viewer.get("/api/products?page_size=100")
    levels = tenant_a.viewer.get("/api/stock-levels?page_size=100")
    ledger = tenant_a.viewer.get("/api/ledger")
    foreign = tenant_a.viewer.get(f"/api/products/{other.mug.pk}")

    assert {row["sku"] for row in products.json()["results"]} == {"A-MUG", "A-COFFEE", "A-GIFT"}
    assert {row["company_id"] for row in levels.json()["results"]} == {shop.company.pk}
    assert {row["company_id"] for row in ledger.json()["results"]} == {shop.company.pk}
    assert_error(foreign, 404, "not_found")
    # The rows are there: a maintenance read sees both companies.
    with dbcontext.maintenance():
        assert StockLevel.objects.values("company_id").distinct().count() == 2


@pytest.mark.without_company
def test_a_task_sees_only_its_company_and_one_without_a_company_sees_nothing(tenant_a, tenant_b):
    mine = make_product(tenant_a.company, "T-A")
    make_product(tenant_b.company, "T-B")

    def visible() -> list[str]:
        return sorted(Product.objects.values_list("sku", flat=True))

    of_company_a = dbcontext.tenant_task(lambda: mine.company_id)(visible)
    of_no_company = dbcontext.tenant_task(lambda: None)(visible)

    assert of_company_a() == ["T-A"]
    assert of_no_company() == []
    with dbcontext.tenant():
        assert LedgerEntry.objects.count() == 0 and StockLevel.objects.count() == 0


def test_a_write_for_another_company_is_refused(tenant_a, tenant_b):
    with (
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        dbcontext.tenant([tenant_a.company.pk]),
    ):
        make_warehouse(tenant_b.company, "SNEAK")
    with dbcontext.maintenance():
        assert not tenant_b.company.warehouses.filter(code="SNEAK").exists()


def test_maintenance_and_tenant_switch_roles_only_inside(tenant_a):
    def whoami() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, coalesce(current_setting('stockflow.companies', true), '')"
            )
            return cursor.fetchone()

    outside = whoami()
    company = tenant_a.company.pk
    with dbcontext.tenant([company]):
        assert whoami() == ("stockflow_app", str(company))
        dbcontext.admit([company + 1, company])
        assert whoami() == ("stockflow_app", f"{company},{company + 1}")
        with dbcontext.maintenance():
            assert whoami()[0] == "stockflow_maintenance"
        assert whoami()[0] == "stockflow_app"
    assert whoami() == outside


def test_every_worker_task_declares_its_database_context():
    modules = [
        importlib.import_module(f"{app.name}.tasks")
        for app in apps.get_app_configs()
        if app.name.startswith("stockflow.") and importlib.util.find_spec(f"{app.name}.tasks")
    ]
    tasks = [
        value for module in modules for value in vars(module).values() if isinstance(value, Task)
    ]
    assert len(tasks) >= 10
    assert {task.name: getattr(task.func, "db_context", None) for task in tasks} == {
        task.name: ("tenant" if task.name in TENANT_TASKS else "maintenance") for task in tasks
    }


@pytest.mark.django_db(transaction=True)
def test_nothing_of_a_request_stays_in_the_pooled_connection(tenant_a):
    make_product(tenant_a.company, "POOL-1")
    assert tenant_a.viewer.get("/api/products").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user = session_user,"
            " coalesce(current_setting('stockflow.companies', true), '')"
        )
        assert cursor.fetchone() == (True, "")


@pytest.mark.django_db(transaction=True)
def test_a_sale_sends_its_companies_with_its_first_statement_not_on_their_own(
    tenant_a, monkeypatch
):
    """The settings cost no round trip of their own: they travel in the message of the
    transaction's first statement (most of what row security would cost a sale)."""
    shop = stocked_shop(tenant_a, "A")
    separate = []
    monkeypatch.setattr(dbcontext, "_apply", lambda db, context: separate.append(context))
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}

    with CaptureQueriesContext(connection) as captured:
        response = tenant_a.staff.post("/api/sales", body, format="json")

    assert response.status_code == 201, response.content
    assert separate == []
    first_write = next(
        q["sql"] for q in captured.captured_queries if "UPDATE" in written_sql(q["sql"])
    )
    settings = first_write.removesuffix(dbcontext.without_settings(first_write))
    assert settings.startswith("SET LOCAL role stockflow_app;")
    assert f"'{tenant_a.company.pk}'" in settings


@pytest.mark.without_company
@pytest.mark.django_db(transaction=True)
def test_a_statement_outside_a_transaction_gets_the_settings_and_its_own_result(tenant_a, tenant_b):
    make_product(tenant_a.company, "AUTO-A")
    make_product(tenant_b.company, "AUTO-B")

    with dbcontext.tenant([tenant_a.company.pk]), connection.cursor() as cursor:
        assert connection.get_autocommit()
        cursor.execute("SELECT sku FROM catalog_product ORDER BY sku")  # no company: on purpose
        assert cursor.fetchall() == [("AUTO-A",)]
        cursor.execute("UPDATE catalog_product SET name = name || '.'")
        assert cursor.rowcount == 1
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == ("stockflow_app",)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_product WHERE name LIKE '%%.'")
        assert cursor.fetchone() == (1,)


def test_the_policy_filters_rows_but_is_never_an_index_condition(tenant_a):
    """Every statement names its company, which is what the indexes are used with. The
    policy's array of companies as an index condition would be set up again on each loop of
    a nested index scan (the low-stock report reads each candidate's sales that way)."""
    company = tenant_a.company.pk
    with transaction.atomic(), dbcontext.tenant([company]), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(
            "EXPLAIN SELECT quantity FROM inventory_sale"
            " WHERE company_id = %s AND product_id = %s AND warehouse_id = %s",
            [company, 1, 1],
        )
        plan = [line for (line,) in cursor.fetchall()]
    index_conditions = [line for line in plan if "Index Cond:" in line]
    filters = [line for line in plan if "Filter:" in line]
    assert index_conditions, plan
    assert not any("ANY" in line for line in index_conditions), plan
    assert any("ANY" in line for line in filters), plan
