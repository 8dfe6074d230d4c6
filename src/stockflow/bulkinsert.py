"""Inserting many rows of one table at once, for the bulk writes (an import's chunk).

On PostgreSQL, from ``COPY_MIN_ROWS`` rows on, the rows go through ``COPY … FROM STDIN``:
their ids are taken from the table's sequence first (one statement), then the rows are
streamed in one ``COPY``, which neither builds nor parses an SQL text with a parameter per
value, the costs of ``bulk_create`` at 1,000 rows and more. Below it, and on SQLite, one
``bulk_create`` (an ``INSERT … RETURNING``) is as fast and costs one statement fewer.

Either way the rows are written in one statement of the caller's transaction and their ids
come back in the order given; constraint violations raise ``IntegrityError`` as an
``INSERT`` does. Signals are not sent (``bulk_create`` sends none either).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import JSONField, Model
from psycopg.types.json import Jsonb

#: From this many rows on, PostgreSQL inserts them with ``COPY``.
COPY_MIN_ROWS = 100


def insert_rows(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence]) -> list[int]:
    """Insert ``rows`` (values in the order of ``fields``, attribute names such as
    ``product_id``) into ``model``'s table; return their ids, in order."""
    if not rows:
        return []
    if connection.vendor != "postgresql" or len(rows) < COPY_MIN_ROWS:
        created = model.objects.bulk_create(
            model(**dict(zip(fields, row, strict=True))) for row in rows
        )
        return [row.pk for row in created]
    meta = model._meta
    # COPY adapts each value by its Python type: JSON columns need theirs named.
    json = [isinstance(meta.get_field(name), JSONField) for name in fields]
    if any(json):
        rows = [
            [Jsonb(v) if is_json else v for v, is_json in zip(row, json, strict=True)]
            for row in rows
        ]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(meta.get_field(name).column) for name in ("id", *fields)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [meta.db_table, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        with connection.wrap_database_errors, cursor.cursor.copy(copy_sql) as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row))
    return ids
