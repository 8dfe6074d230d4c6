"""Migration operations that make the database itself keep tenants apart (PostgreSQL).

Django's model state cannot express a composite foreign key, and its schema editor builds
unique constraints and foreign keys with long locks. These operations change the database
the way a large, live table needs, and leave Django's state as plain as it can be:

* ``RekeyUnique`` adds ``company_id`` in front of a unique constraint or unique partial
  index: the new index is built ``CONCURRENTLY``, then swapped for the old one under a
  short lock. The model state gets the new constraint (same name), so SQLite, which runs
  the state operations' own schema changes, ends with the same rule.
* ``SameCompanyForeignKeys`` replaces each foreign key between tenant tables
  (``x_id REFERENCES t(id)``) by ``(company_id, x_id) REFERENCES t(company_id, id)``,
  backed by a unique ``(company_id, id)`` on ``t`` (built ``CONCURRENTLY``): added
  ``NOT VALID`` (no scan under the lock), then ``VALIDATE``d (a scan that lets writes run).
  The model state keeps its single-column foreign keys; on SQLite nothing changes (the
  application's scoping keeps tenants apart there).

Both need a migration with ``atomic = False`` (``CONCURRENTLY`` cannot run in a
transaction), and each statement is idempotent, so a migration interrupted half-way can be
run again.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import migrations


def _is_postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class RekeyUnique(migrations.operations.base.Operation):
    """Replace the unique rule ``name`` on ``table`` by one over ``company_id`` and
    ``columns`` (with ``condition``, a partial unique index, as Django builds a
    conditional ``UniqueConstraint``). ``state_operations`` say the same to Django's state
    (and are what SQLite runs); ``old_is_index`` tells how the old rule is stored on
    PostgreSQL (a partial unique index, else a constraint), ``old_name`` when it is not
    ``name`` (e.g. the ``*_key`` of a field's ``unique=True``)."""

    reversible = False

    def __init__(
        self,
        table: str,
        name: str,
        columns: Sequence[str],
        state_operations: Sequence[migrations.operations.base.Operation],
        condition: str = "",
        old_name: str = "",
        old_is_index: bool = False,
        drop_indexes: Sequence[str] = (),
    ) -> None:
        self.table = table
        self.name = name
        self.columns = list(columns)
        self.state_operations = list(state_operations)
        self.condition = condition
        self.old_name = old_name or name
        self.old_is_index = old_is_index
        self.drop_indexes = list(drop_indexes)

    def state_forwards(self, app_label, state) -> None:
        for operation in self.state_operations:
            operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if not _is_postgres(schema_editor):
            migrations.SeparateDatabaseAndState(
                database_operations=self.state_operations
            ).database_forwards(app_label, schema_editor, from_state, to_state)
            return
        for statement in self.postgres_statements():
            schema_editor.execute(statement, params=None)

    def postgres_statements(self) -> list[str]:
        new = f"{self.name}_rekey"
        columns = ", ".join(["company_id", *self.columns])
        where = f" WHERE {self.condition}" if self.condition else ""
        statements = [
            f"DROP INDEX CONCURRENTLY IF EXISTS {new}",
            f"CREATE UNIQUE INDEX CONCURRENTLY {new} ON {self.table} ({columns}){where}",
        ]
        if self.old_is_index:
            statements.append(f"DROP INDEX CONCURRENTLY IF EXISTS {self.old_name}")
        else:
            statements.append(f"ALTER TABLE {self.table} DROP CONSTRAINT IF EXISTS {self.old_name}")
        if self.condition:
            statements.append(f"ALTER INDEX {new} RENAME TO {self.name}")
        else:
            statements.append(
                f"ALTER TABLE {self.table} ADD CONSTRAINT {self.name} UNIQUE USING INDEX {new}"
            )
        statements += [f"DROP INDEX CONCURRENTLY IF EXISTS {index}" for index in self.drop_indexes]
        return statements

    def describe(self) -> str:
        return f"Unique {self.name} on {self.table} within a company"


class SameCompanyForeignKeys(migrations.operations.base.Operation):
    """On PostgreSQL, make each foreign key ``(table, column, target)`` composite with
    ``company_id``: a row can only reference a row of its own company."""

    reversible = False

    def __init__(self, keys: Sequence[tuple[str, str, str]]) -> None:
        self.keys = [tuple(key) for key in keys]

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if not _is_postgres(schema_editor):
            return
        introspection = schema_editor.connection.introspection
        with schema_editor.connection.cursor() as cursor:
            for target in sorted({target for _, _, target in self.keys}):
                if same_company_target_name(target) not in introspection.get_constraints(
                    cursor, target
                ):
                    for statement in target_statements(target):
                        schema_editor.execute(statement, params=None)
            for table, column, target in self.keys:
                constraint = same_company_key_name(table, column)
                schema_editor.execute(
                    f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {constraint}", params=None
                )
                schema_editor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {constraint}"
                    f" FOREIGN KEY (company_id, {column}) REFERENCES {target} (company_id, id)"
                    " DEFERRABLE INITIALLY DEFERRED NOT VALID",
                    params=None,
                )
                schema_editor.execute(
                    f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint}", params=None
                )
                # The single-column key it replaces (Django's, named with a hash).
                for name, info in introspection.get_constraints(cursor, table).items():
                    if info["foreign_key"] and info["columns"] == [column]:
                        schema_editor.execute(
                            f"ALTER TABLE {table} DROP CONSTRAINT {name}", params=None
                        )

    def describe(self) -> str:
        return f"Same-company foreign keys ({len(self.keys)})"


def target_statements(target: str) -> list[str]:
    """The unique ``(company_id, id)`` a composite key references: built without blocking
    writes, then attached as a constraint under a short lock."""
    name = same_company_target_name(target)
    return [
        f"DROP INDEX CONCURRENTLY IF EXISTS {name}_build",
        f"CREATE UNIQUE INDEX CONCURRENTLY {name}_build ON {target} (company_id, id)",
        f"ALTER TABLE {target} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}_build",
    ]


def same_company_key_name(table: str, column: str) -> str:
    return f"{table}_{column}_same_company"[:63]


def same_company_target_name(table: str) -> str:
    return f"{table}_company_id_id_key"[:63]
