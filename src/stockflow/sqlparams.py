"""Parameters of raw SQL in the form the ORM writes them.

A raw statement that stores a datetime must adapt it as the ORM adapts a ``DateTimeField``:
on SQLite that is naive UTC text (``2026-01-31 09:30:00.123456``), while a bare aware
datetime would be stored with its offset (``…+00:00``), and one column would then hold two
formats (which text comparisons, ``ORDER BY`` and ``__range`` lookups would mix up). On
PostgreSQL the aware datetime is passed as it is.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection as default_connection


def datetime_param(value: datetime | None, connection=None):
    """``value`` for a datetime column of a raw statement on ``connection`` (default: the
    default database)."""
    return (connection or default_connection).ops.adapt_datetimefield_value(value)
