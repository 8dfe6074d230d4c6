"""The statement checker on hand-written SQL: what it accepts, what it reports."""

from __future__ import annotations

import pytest

from stockflow.tenancy.keys import tenant_tables
from tests.statements.checker import Checker, Finding, normalize, to_postgres

checker = Checker({"product", "level", "warehouse", "component"})


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM product WHERE product.company_id = %s",
        'SELECT "product"."id" FROM "product" WHERE ("product"."company_id" = %s AND "product"."sku"::text LIKE %s)',
        "SELECT * FROM product p WHERE p.company_id IN (%s, %s) AND p.id = %s",
        "SELECT * FROM product WHERE company_id = ANY(%s)",
        "SELECT * FROM product WHERE %s = company_id",
        "SELECT * FROM level WHERE level.company_id IN (SELECT company_id FROM membership WHERE user_id = %s)",
        "UPDATE level SET quantity = quantity + %s WHERE company_id = %s AND product_id = %s",
        "DELETE FROM level WHERE level.company_id = %s AND level.id IN (%s, %s)",
        "INSERT INTO level (company_id, product_id) VALUES (%s, %s)",
        "INSERT INTO level (company_id, product_id) SELECT p.company_id, p.id FROM product p WHERE p.company_id = %s",
        # a join equating the companies, in ON or in WHERE, transitively
        "SELECT * FROM level s JOIN product p ON p.id = s.product_id AND p.company_id = s.company_id WHERE s.company_id = %s",
        "SELECT * FROM level s, product p, warehouse w WHERE w.company_id = p.company_id AND p.company_id = s.company_id AND s.company_id = %s",
        # a correlated subquery equating its company with the outer row's
        "SELECT * FROM level s WHERE s.company_id = %s AND EXISTS (SELECT 1 FROM product p WHERE p.id = s.product_id AND p.company_id = s.company_id)",
        # a recursive walk, every step in the company
        "WITH RECURSIVE walk(id) AS (SELECT c.component_id FROM component c WHERE c.company_id = %s UNION ALL SELECT c.component_id FROM walk JOIN component c ON c.bundle_id = walk.id AND c.company_id = %s) SELECT * FROM walk",
        # a derived table's company is checked where it is read
        "SELECT * FROM (SELECT company_id, id FROM product WHERE company_id = %s) x JOIN level s ON s.product_id = x.id AND s.company_id = x.company_id",
        # every branch of an OR gives the company
        "SELECT * FROM level WHERE (company_id IN (%s) AND warehouse_id = %s) OR (company_id IN (%s) AND to_warehouse_id = %s)",
        "SELECT 1",
        "SAVEPOINT s1",
        "SELECT * FROM auth_user WHERE id = %s",
    ],
)
def test_statements_that_name_the_company_pass(sql):
    assert checker.check(sql) == []


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "UPDATE level SET quantity = quantity + %s WHERE product_id = %s AND warehouse_id = %s",
            [Finding("unscoped", ("level",), by_id=True)],
        ),
        ("SELECT * FROM product", [Finding("unscoped", ("product",), by_id=False)]),
        ("DELETE FROM level WHERE id IN (%s, %s)", [Finding("unscoped", ("level",), by_id=True)]),
        # a company under OR restricts nothing for sure
        (
            "SELECT * FROM product WHERE company_id = %s OR id = %s",
            [Finding("unscoped", ("product",), by_id=True)],
        ),
        # both tables in the company, each by its own value: not a join on equal companies
        (
            "SELECT * FROM level s JOIN product p ON p.id = s.product_id WHERE s.company_id = %s AND p.company_id = %s",
            [Finding("join", ("level", "product"))],
        ),
        # the joined table reached by its id only
        (
            "SELECT * FROM product p LEFT JOIN warehouse w ON w.id = p.warehouse_id WHERE p.company_id = %s",
            [
                Finding("unscoped", ("warehouse",), by_id=True),
                Finding("join", ("product", "warehouse")),
            ],
        ),
        # a subquery reaching rows by foreign key only
        (
            "SELECT * FROM level WHERE company_id = %s AND product_id IN (SELECT id FROM product WHERE product_type_id = %s)",
            [Finding("unscoped", ("product",), by_id=True)],
        ),
        (
            "WITH RECURSIVE walk(id) AS (SELECT c.component_id FROM component c WHERE c.company_id = %s UNION ALL SELECT c.component_id FROM walk JOIN component c ON c.bundle_id = walk.id) SELECT * FROM walk",
            [Finding("unscoped", ("component",), by_id=True)],
        ),
        ("INSERT INTO level (product_id) VALUES (%s)", [Finding("insert", ("level",))]),
        (
            "SELECT * FROM level s WHERE s.company_id = %s AND EXISTS (SELECT 1 FROM product p WHERE p.id = s.product_id)",
            [Finding("unscoped", ("product",), by_id=True)],
        ),
    ],
)
def test_statements_without_the_company_are_reported(sql, expected):
    assert checker.check(sql) == expected


def test_django_placeholders_become_postgres_ones():
    assert to_postgres("a = %s AND b LIKE '%%x' AND c = %(c)s AND d = %(c)s AND e = %s") == (
        "a = $1 AND b LIKE '%x' AND c = $2 AND d = $2 AND e = $3"
    )


def test_statements_differing_by_list_length_are_one():
    assert normalize("SELECT * FROM t WHERE id IN (%s, %s, %s)") == normalize(
        "SELECT * FROM t WHERE id IN (%s, %s)"
    )
    two = "WHERE (a = %s AND b = %s) OR (a = %s AND b = %s)"
    assert normalize(two) == normalize(f"{two} OR (a = %s AND b = %s)")


def test_the_tenant_tables_are_those_with_a_company(db):
    tables = tenant_tables()
    assert {"catalog_product", "inventory_stocklevel", "api_idempotencykey"} <= tables
    # read by user, before any company is known
    assert "tenancy_membership" not in tables
    # the platform's SKUs, read across companies on purpose
    assert "catalog_skuregistration" not in tables
    assert "tenancy_company" not in tables and "auth_user" not in tables
