"""Inserting many rows of one table at once, for the bulk writes (an import's chunk).

On PostgreSQL, from ``ARRAYS_MIN_ROWS`` rows on, the rows go in one ``INSERT … SELECT FROM
unnest(<one array per column>) RETURNING id``: each column is sent as one array parameter,
so the statement's text and its parameter list do not grow with the rows, the costs of
``bulk_create`` at 1,000 rows and more. It is an ``INSERT``, not a ``COPY``: ``COPY FROM`` is refused on tables under
row-level security (``tenancy.dbcontext``), an ``INSERT`` is checked by their policies like
any other write. Below it, and on SQLite, one ``bulk_create`` (an ``INSERT … RETURNING``) is
as fast.

Either way the rows are written in one statement of the caller's transaction and their ids
come back in the order given (``RETURNING`` follows the order of the rows inserted, as
``bulk_create`` relies on too); constraint violations raise ``IntegrityError`` as an
``INSERT`` does. Signals are not sent (``bulk_create`` sends none either).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import JSONField, Model
from psycopg.types.json import Jsonb

#: From this many rows on, PostgreSQL inserts them as arrays (``unnest``).
ARRAYS_MIN_ROWS = 100


def insert_rows(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence]) -> list[int]:
    """Insert ``rows`` (values in the order of ``fields``, attribute names such as
    ``product_id``) into ``model``'s table; return their ids, in order."""
    if not rows:
        return []
    if connection.vendor != "postgresql" or len(rows) < ARRAYS_MIN_ROWS:
        created = model.objects.bulk_create(
            model(**dict(zip(fields, row, strict=True))) for row in rows
        )
        return [row.pk for row in created]
    pk = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(*_arrays_insert(model, fields, rows, returning=f" RETURNING {pk}"))
        return [row[0] for row in cursor.fetchall()]


def insert_values(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence]) -> None:
    """``insert_rows`` with no id read back and no object built (a history of a million
    rows): on PostgreSQL the same array ``INSERT``; elsewhere each value adapted by its
    field and one ``executemany``."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(*_arrays_insert(model, fields, rows))
            return
        model_fields = [model._meta.get_field(name) for name in fields]
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
        placeholders = ", ".join(["%s"] * len(model_fields))
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({placeholders})",
            [
                [f.get_db_prep_save(v, connection) for f, v in zip(model_fields, row, strict=True)]
                for row in rows
            ],
        )


def _arrays_insert(model, fields, rows, returning: str = "") -> tuple[str, list]:
    """PostgreSQL's ``INSERT … SELECT FROM unnest(<one array per column>)`` of ``rows``,
    each array cast to its column's type: the statement and its parameters."""
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    columns = [list(values) for values in zip(*rows, strict=True)]
    for index, field in enumerate(model_fields):
        if isinstance(field, JSONField):  # psycopg needs JSON values named as such
            columns[index] = [None if v is None else Jsonb(v) for v in columns[index]]
    table = connection.ops.quote_name(meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in model_fields)
    return f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}){returning}", columns
