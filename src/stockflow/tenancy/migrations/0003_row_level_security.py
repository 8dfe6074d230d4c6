"""Row-level security on every tenant table (PostgreSQL; nothing on SQLite).

* Roles (cluster-wide, created once if the migrating role may, else by the administrator
  beforehand, see README "Production"): ``stockflow_app`` (row security applies) and
  ``stockflow_maintenance`` (``BYPASSRLS``), neither able to log in. The migrating role is
  made a member of both, so that its connections may switch to them per transaction
  (``tenancy.dbcontext``).
* Both may read and write every table of the schema, now and later (default privileges of
  the migrating role); neither owns anything.
* Each tenant table: ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` (so its owner is bound too)
  and the policy ``tenant_isolation``: a row is seen, written and kept only if its company
  is in the transaction's ``stockflow.companies`` (a comma-separated list; none when
  unset). The list is read once per statement (a scalar subquery), not once per row.

Platform tables stay outside: companies, memberships, API tokens, users, invitations
(read by their token before any company is known), the web app's user preferences, the
SKU registry, the task queue, sessions and Django's own tables.
"""

from django.db import migrations

TENANT_TABLES = [
    "api_idempotencykey",
    "catalog_bundlecomponent",
    "catalog_product",
    "catalog_productsupplier",
    "catalog_producttype",
    "catalog_supplier",
    "catalog_warehouse",
    "dataio_importjob",
    "inventory_ledgerentry",
    "inventory_sale",
    "inventory_stockevent",
    "inventory_stocklevel",
    "inventory_stockmovement",
    "notifications_deliveryattempt",
    "notifications_dispatchedevent",
    "notifications_notificationpreference",
    "notifications_webhookdelivery",
    "notifications_webhookendpoint",
    "purchasing_purchaseorder",
    "purchasing_purchaseordercounter",
    "purchasing_purchaseorderline",
]

ROLES = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stockflow_app') THEN
        CREATE ROLE stockflow_app NOLOGIN NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stockflow_maintenance') THEN
        CREATE ROLE stockflow_maintenance NOLOGIN BYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created meanwhile by a migration of another database of the cluster
END
$$
"""

MEMBERSHIP = """
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'stockflow_app', 'MEMBER') THEN
        GRANT stockflow_app TO CURRENT_USER;
    END IF;
    IF NOT pg_has_role(current_user, 'stockflow_maintenance', 'MEMBER') THEN
        GRANT stockflow_maintenance TO CURRENT_USER;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$
"""

GRANTS = [
    "GRANT USAGE ON SCHEMA {schema} TO stockflow_app, stockflow_maintenance",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema}"
    " TO stockflow_app, stockflow_maintenance",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema}"
    " TO stockflow_app, stockflow_maintenance",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE"
    " ON TABLES TO stockflow_app, stockflow_maintenance",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT, UPDATE"
    " ON SEQUENCES TO stockflow_app, stockflow_maintenance",
]

# A scalar subquery (evaluated once per statement), cast to an array: ANY then takes it as
# one array, not as a subquery's rows.
COMPANIES = (
    "(SELECT string_to_array(nullif(current_setting('stockflow.companies', true), ''), ','))"
    "::bigint[]"
)

POLICY = [
    "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS tenant_isolation ON {table}",
    f"CREATE POLICY tenant_isolation ON {{table}} USING (company_id = ANY ({COMPANIES}))"
    f" WITH CHECK (company_id = ANY ({COMPANIES}))",
]

UNDO_POLICY = [
    "DROP POLICY IF EXISTS tenant_isolation ON {table}",
    "ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
]


def enable(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        schema = cursor.fetchone()[0]
    for statement in [ROLES, MEMBERSHIP, *GRANTS]:
        schema_editor.execute(statement.format(schema=schema), params=None)
    for table in TENANT_TABLES:
        for statement in POLICY:
            schema_editor.execute(statement.format(table=table), params=None)


def disable(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TENANT_TABLES:
        for statement in UNDO_POLICY:
            schema_editor.execute(statement.format(table=table), params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0002_company_timezone"),
        ("accounts", "0001_initial"),
        ("api", "0001_initial"),
        ("catalog", "0003_sku_registry_and_company_keys"),
        ("dataio", "0001_initial"),
        ("inventory", "0009_keys_within_company"),
        ("notifications", "0003_keys_within_company"),
        ("purchasing", "0002_keys_within_company"),
        ("web", "0001_initial"),
    ]

    operations = [migrations.RunPython(enable, disable, elidable=False)]
