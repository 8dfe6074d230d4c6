"""The row-security policy becomes a filter, never an index condition (PostgreSQL).

``tenancy.0003`` admitted a row with ``company_id = ANY (<the transaction's companies>)``.
The planner takes that array condition into index scans beside the statement's own
``company_id = %s``, and a nested scan (the low-stock report reads each candidate's sales
that way, thousands of times per report) sets the array up again on every loop: the report
cost a sixth more with row security on. Every statement of the application names its
company itself (``tests/statements`` proves it), so the indexes have their company
condition already; the policy only has to turn away the rows of other companies, which
it now does as a filter (``… IS TRUE``: the same rows, admitted and refused as before).

The companies are read once per statement (a scalar subquery, cast to ``bigint[]`` inside
it, so that nothing is converted again per row). ``ALTER POLICY`` takes a brief lock on
each table and rewrites nothing.
"""

from django.db import migrations

COMPANIES_BEFORE = (
    "(SELECT string_to_array(nullif(current_setting('stockflow.companies', true), ''), ','))"
    "::bigint[]"
)
# The outer cast of an expression already of that type is dropped by the parser; it is
# there so that ``ANY`` takes one array rather than the rows of a subquery.
COMPANIES = (
    "(SELECT string_to_array(nullif(current_setting('stockflow.companies', true), ''), ',')"
    "::bigint[])::bigint[]"
)
ADMITTED = f"(company_id = ANY ({COMPANIES})) IS TRUE"
ADMITTED_BEFORE = f"company_id = ANY ({COMPANIES_BEFORE})"


def _policies(schema_editor, condition: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(tablename) FROM pg_policies"
            " WHERE schemaname = current_schema() AND policyname = 'tenant_isolation'"
            " ORDER BY tablename"
        )
        tables = [table for (table,) in cursor.fetchall()]
    for table in tables:
        schema_editor.execute(
            f"ALTER POLICY tenant_isolation ON {table} USING ({condition})"
            f" WITH CHECK ({condition})",
            params=None,
        )


def forwards(apps, schema_editor):
    _policies(schema_editor, ADMITTED)


def backwards(apps, schema_editor):
    _policies(schema_editor, ADMITTED_BEFORE)


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0003_row_level_security")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
