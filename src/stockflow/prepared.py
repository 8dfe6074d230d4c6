"""Statements that PostgreSQL parses, rewrites and plans once per connection.

The sale is the hottest write of the service, and most of what its three statements cost
the database is not the work they do (one row updated, two inserted) but getting them ready:
parsing, the rewrite that adds each table's row-security policy, planning. ``execute``
runs such a statement as a prepared one (``PREPARE`` once per connection, then ``EXECUTE``
with the values): PostgreSQL keeps the rewritten statement, and after a few executions a
generic plan, for the rest of the connection's life. The policies are still evaluated at
each execution, with the transaction's own companies (``tenancy.dbcontext``); a statement
prepared under one role is rewritten again, by PostgreSQL itself, when it runs under
another.

Both commands are plain SQL, so a statement keeps travelling the way Django's psycopg
cursors send any other (the values bound by the client, the simple query protocol): the
settings of the transaction still ride in the message of its first statement, the
execute wrappers (query log, statement audit) see it, and the ``PREPARE`` shares the
message of the first ``EXECUTE`` (one statement in Django's query count, as before).

A prepared statement belongs to the server session, not to a transaction: it outlives a
rollback, and a transaction-mode connection pooler in front of PostgreSQL (PgBouncer) would
hand the next transaction another session. ``DATABASE_PREPARED_STATEMENTS=0`` turns this off
for such a deployment (and on SQLite it is off: the statement runs as written).

Only for statements of constant text (the values as parameters): each text becomes one
prepared statement per connection, named after a hash of the text.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.db import DatabaseError

#: at most this many statements prepared per connection; beyond, statements run as written
#: (a guard against a caller passing texts that vary)
MAX_PER_CONNECTION = 64

_PLACEHOLDER = re.compile(r"%s|%%")


@dataclass(frozen=True)
class _Statement:
    name: str
    prepare: str  # PREPARE name AS <the statement with $1, $2, …>
    execute: str  # EXECUTE name(%s, %s, …)


@dataclass
class _Session:
    """What one server session holds: the names prepared there, or ``unsure`` after an
    error that may have come before or after a ``PREPARE`` (read back from the server)."""

    names: set[str] = field(default_factory=set)
    unsure: bool = False


_sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_sessions_lock = threading.Lock()


def enabled(db) -> bool:
    return db.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS


def execute(cursor, sql: str, params: Sequence) -> None:
    """Run ``sql`` (constant text, Django's ``%s`` placeholders) with ``params`` on
    ``cursor`` (Django's): prepared once per connection on PostgreSQL, as written elsewhere.
    The cursor then holds the statement's own result (``fetchone`` and ``rowcount`` as if
    ``cursor.execute(sql, params)`` had run)."""
    db = cursor.db
    if not enabled(db):
        cursor.execute(sql, params)
        return
    statement = _statement(sql)
    session = _session(db.connection, cursor)
    first = statement.name not in session.names
    if first and len(session.names) >= MAX_PER_CONNECTION:
        cursor.execute(sql, params)
        return
    if first:
        # Recorded before it runs: a PREPARE that ran stays even if its transaction fails.
        session.names.add(statement.name)
    try:
        cursor.execute(
            f"{statement.prepare};\n{statement.execute}" if first else statement.execute, params
        )
    except DatabaseError:
        # Which statement of the message failed is not known (a PREPARE that did not run, or
        # a session whose statements someone deallocated): read them back before the next.
        session.unsure = True
        raise
    if first:
        cursor.nextset()  # from the PREPARE's result to the statement's


def as_written(sql: str) -> str:
    """A statement of Django's query log as its caller wrote it (placeholders, no values):
    the log shows the message sent, ``EXECUTE stockflow_…(values)``, after a ``PREPARE``
    the first time."""
    match = _LOGGED.match(sql)
    if match is None:
        return sql
    return _written.get(match.group(1), sql)


_LOGGED = re.compile(r"\A(?:PREPARE|EXECUTE) (stockflow_[0-9a-f]{16})\b")
#: name -> text, of the statements this process prepared
_written: dict[str, str] = {}


@lru_cache(maxsize=256)
def _statement(sql: str) -> _Statement:
    name = "stockflow_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest()
    _written[name] = sql
    count = 0

    def number(match: re.Match) -> str:
        nonlocal count
        if match.group(0) == "%%":
            return "%%"  # still a client-side escape: the message is formatted as a whole
        count += 1
        return f"${count}"

    body = _PLACEHOLDER.sub(number, sql)
    arguments = ", ".join(["%s"] * count)
    return _Statement(
        name,
        f"PREPARE {name} AS {body.strip()}",
        f"EXECUTE {name}({arguments})" if count else f"EXECUTE {name}",
    )


def _session(raw, cursor) -> _Session:
    with _sessions_lock:
        session = _sessions.get(raw)
        if session is None:
            session = _sessions[raw] = _Session()
    if session.unsure:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        session.names = {name for (name,) in cursor.fetchall()}
        session.unsure = False
    return session
