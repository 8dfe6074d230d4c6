"""Row-level security: which companies the database lets a transaction see (PostgreSQL).

Every tenant table has a policy (migration ``tenancy.0003``) that admits a row only when its
``company_id`` is in the transaction's ``stockflow.companies`` setting, for the role
``stockflow_app``; ``stockflow_maintenance`` bypasses the policies. This module is the one
place that sets them, always per transaction (``SET LOCAL``): when the transaction ends,
nothing of it remains in the connection, so a pooled connection never carries a company into
the next request.

* ``tenant(company_ids)`` — requests (``TenantDatabaseMiddleware``), worker tasks of one
  company (``tenant_task``) and imports run in it. Every transaction opened inside it
  starts as ``stockflow_app`` with those companies; a statement outside any transaction
  (Django's autocommit) is run in a transaction of its own that starts the same way. The
  settings (two ``SET LOCAL``, which a Citus coordinator also passes on to its workers)
  travel in the same message as the transaction's first statement: no round trip of
  their own. The companies may be learnt later (``admit``: a request knows its caller's companies once
  authenticated, ``TenantScope`` tells them); until then the transaction sees no tenant row.
* ``maintenance()`` — the work that spans companies on purpose, listed in
  ``MAINTENANCE`` below: its transactions start as ``stockflow_maintenance``.
* ``platform()`` — reads of platform tables only (tokens, memberships) made before the
  caller is known: they run as the connection's own role, without a transaction around.

Outside all three, a statement runs as the role the connection logged in with: in
production the tables' owner, whom ``FORCE ROW LEVEL SECURITY`` shows no tenant row (a
forgotten context fails closed); in the test suite the superuser ``postgres``, which row
security never applies to (the tests build their data that way).

With ``STOCKFLOW_RLS`` off, or on SQLite, this module does nothing: the application's
scoping (``tenancy.scoping``) is then the only guard, as it is the first one always.

Which work runs as maintenance, and why (the one list):

* management commands: ``verify_stock``, ``purge_idempotency_keys``, ``demo``, the bench
  dataset loader (they read or write every company's rows);
* the worker's scheduler tick (hands every company's new stock events to webhooks) and its
  periodic jobs across companies (sweeping webhook deliveries, immediate alert emails,
  daily digests, purges): ``maintenance_task``;
* finding the company of a task's object (``tenant_task``), before the task runs as it;
* the Django admin (``/admin/``, staff only): a platform operator's tool across companies.

Sign-up, accepting an invitation, password resets and token authentication read and write
platform tables only (users, companies, memberships, invitations, tokens): they run in the
request's context like any request, with no company needed.
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import ClientCursor
from psycopg.pq import TransactionStatus

APP_ROLE = "stockflow_app"
MAINTENANCE_ROLE = "stockflow_maintenance"
COMPANIES_SETTING = "stockflow.companies"
# The statements that set a transaction's role and companies, with the values written in
# (a role of this module, digits and commas: nothing to quote).
_SETTINGS = f"SET LOCAL role {{role}}; SET LOCAL {COMPANIES_SETTING} = '{{companies}}';\n"
#: the results the settings add at the head of a message that holds them
_SETTINGS_RESULTS = _SETTINGS.count(";")
_ROLES = frozenset({APP_ROLE, MAINTENANCE_ROLE, "none"})
_COMPANIES = re.compile(r"[0-9]*(,[0-9]+)*")
_SETTINGS_PREFIX = re.compile(
    r"\A"
    + re.escape(_SETTINGS)
    .replace(re.escape("{role}"), "[a-z_]+")
    .replace(re.escape("{companies}"), "[0-9,]*")
)


@dataclass
class _Context:
    role: str
    companies: str = ""


_current: contextvars.ContextVar[_Context | None] = contextvars.ContextVar(
    "stockflow_db_context", default=None
)


def enabled(db: BaseDatabaseWrapper | None = None) -> bool:
    db = db or connections[DEFAULT_DB_ALIAS]
    return db.vendor == "postgresql" and settings.STOCKFLOW_RLS


# The helpers below take the connection itself: they run around every statement, and each
# attribute of ``django.db.connection`` is a lookup in a thread-local store.


def _in_transaction(db: BaseDatabaseWrapper) -> bool:
    raw = db.connection
    return raw is not None and raw.pgconn.transaction_status != TransactionStatus.IDLE


def _apply(db: BaseDatabaseWrapper, context: _Context) -> None:
    # On the driver's connection, so Django's errors are raised as Django raises them (a
    # lost connection is an OperationalError, answered 503), not psycopg's own.
    with db.wrap_database_errors:
        db.connection.execute(_settings_statement(context))


def _settings_statement(context: _Context) -> str:
    if context.role not in _ROLES or not _COMPANIES.fullmatch(context.companies):
        raise ValueError(f"not a database context: {context!r}")
    return _SETTINGS.format(role=context.role, companies=context.companies)


def settings_sql(role: str, company_ids: Iterable[int] = ()) -> str:
    """The statements that start a transaction as ``role`` (``APP_ROLE``,
    ``MAINTENANCE_ROLE`` or ``"none"``) with ``company_ids``, as this module sends them at
    the head of its first statement's message (a benchmark replays them)."""
    return _settings_statement(_Context(role, _as_setting(company_ids)))


def without_settings(sql: str) -> str:
    """A logged statement as the application wrote it. Django's query log shows the message
    sent, which for the first statement of a transaction begins with the settings."""
    return _SETTINGS_PREFIX.sub("", sql, count=1)


def _foldable(sql, many: bool, cursor) -> bool:
    """Whether the settings can travel in the statement's own message: a plain statement
    on a client-side binding cursor (Django's default on psycopg 3), which psycopg sends
    with the simple query protocol, where one message may hold several statements."""
    return not many and isinstance(sql, str) and isinstance(cursor, ClientCursor)


def _wrapper(execute, sql, params, many, call_context):
    context = _current.get()
    if context is None:
        return execute(sql, params, many, call_context)
    db = call_context["connection"]
    atomic = db.in_atomic_block
    if atomic and _in_transaction(db):
        return execute(sql, params, many, call_context)
    # The first statement of a transaction, or a statement in autocommit mode.
    cursor = call_context["cursor"].cursor
    if _foldable(sql, many, cursor):
        # One message, one round trip: the settings, then the statement. In a transaction
        # they hold until its end; in autocommit mode PostgreSQL runs a message of several
        # statements as one transaction, so they hold for this statement only. The cursor
        # then shows the statement's own result.
        result = execute(_settings_statement(context) + sql, params, many, call_context)
        for _ in range(_SETTINGS_RESULTS):
            cursor.nextset()
        return result
    if atomic:
        _apply(db, context)
        return execute(sql, params, many, call_context)
    # Otherwise (a server-side cursor, executemany) a transaction of its own, opened on the
    # driver (Django's state stays "autocommit"; nothing extra in its query log).
    with db.wrap_database_errors, db.connection.transaction():
        _apply(db, context)
        return execute(sql, params, many, call_context)


@contextmanager
def _entered(context: _Context | None) -> Iterator[None]:
    previous = _current.get()
    token = _current.set(context)
    db = connections[DEFAULT_DB_ALIAS]
    on = enabled(db)
    installed = on and _wrapper not in db.execute_wrappers
    if installed:
        db.execute_wrappers.append(_wrapper)
    # Entered inside an open transaction (a test's, or a caller's): it takes the context
    # now, and gets the previous one back at the end.
    switch_now = on and db.in_atomic_block and _in_transaction(db)
    if switch_now:
        _apply(db, context or _Context("none"))
    try:
        yield
    finally:
        _current.reset(token)
        if switch_now and _in_transaction(db):
            _apply(db, previous or _Context("none"))
        if installed:
            db.execute_wrappers.remove(_wrapper)


def tenant(company_ids: Iterable[int] = ()):
    """Run the block as the application, seeing the rows of ``company_ids`` only."""
    return _entered(_Context(APP_ROLE, _as_setting(company_ids)))


def maintenance():
    """Run the block as maintenance: every company's rows (see the list above)."""
    return _entered(_Context(MAINTENANCE_ROLE))


def platform():
    """Run the block as the connection's own role: reads of platform tables only."""
    return _entered(None)


def admit(company_ids: Iterable[int]) -> None:
    """The companies of the running ``tenant`` context are now ``company_ids`` (the caller
    is known): the open transaction, if any, sees them at once. Elsewhere, nothing."""
    context = _current.get()
    if context is None or context.role != APP_ROLE:
        return
    companies = _as_setting(company_ids)
    if companies == context.companies:
        return
    context.companies = companies
    db = connections[DEFAULT_DB_ALIAS]
    if enabled(db) and db.in_atomic_block and _in_transaction(db):
        _apply(db, context)


def _as_setting(company_ids: Iterable[int]) -> str:
    return ",".join(str(int(company_id)) for company_id in sorted(set(company_ids)))


def continued(iterator: Iterable) -> Iterator:
    """``iterator`` consumed in the context running now, whenever it is consumed: a
    streamed response's body is produced after its view returned."""
    context = _current.get()
    with _entered(context):
        yield from iterator


def tenant_task(company_of: Callable[..., int | None]):
    """A worker task of one company: ``company_of(*args, **kwargs)`` (run as maintenance)
    names the company of the object the task is about; the task runs in ``tenant`` with
    that company (none if the object is gone: the task then sees nothing)."""

    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            with maintenance():
                company_id = company_of(*args, **kwargs)
            with tenant([] if company_id is None else [company_id]):
                return function(*args, **kwargs)

        run.db_context = "tenant"
        return run

    return decorate


def maintenance_task(function):
    """A worker task across companies on purpose (listed in this module's docstring)."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        with maintenance():
            return function(*args, **kwargs)

    run.db_context = "maintenance"
    return run
