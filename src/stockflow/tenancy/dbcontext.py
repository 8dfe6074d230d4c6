"""Row-level security: which companies the database lets a transaction see (PostgreSQL).

Every tenant table has a policy (migration ``tenancy.0003``) that admits a row only when its
``company_id`` is in the transaction's ``stockflow.companies`` setting, for the role
``stockflow_app``; ``stockflow_maintenance`` bypasses the policies. This module is the one
place that sets them, always per transaction (``set_config(…, true)``, ``SET LOCAL``
semantics): when the transaction ends, nothing of it remains in the connection, so a pooled
connection never carries a company into the next request.

* ``tenant(company_ids)`` — requests (``TenantDatabaseMiddleware``), worker tasks of one
  company (``tenant_task``) and imports run in it. Every transaction opened inside it
  starts as ``stockflow_app`` with those companies; a statement outside any transaction
  (Django's autocommit) is run in a transaction of its own that starts the same way. The
  companies may be learnt later (``admit``: a request knows its caller's companies once
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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from psycopg.pq import TransactionStatus

APP_ROLE = "stockflow_app"
MAINTENANCE_ROLE = "stockflow_maintenance"
COMPANIES_SETTING = "stockflow.companies"
_SET = "SELECT set_config('role', %s, true), set_config('stockflow.companies', %s, true)"


@dataclass
class _Context:
    role: str
    companies: str = ""


_current: contextvars.ContextVar[_Context | None] = contextvars.ContextVar(
    "stockflow_db_context", default=None
)


def enabled() -> bool:
    return connection.vendor == "postgresql" and settings.STOCKFLOW_RLS


def _in_transaction() -> bool:
    raw = connection.connection
    return raw is not None and raw.info.transaction_status != TransactionStatus.IDLE


def _apply(context: _Context) -> None:
    # On the driver's connection, so Django's errors are raised as Django raises them (a
    # lost connection is an OperationalError, answered 503), not psycopg's own.
    with connection.wrap_database_errors:
        connection.connection.execute(_SET, [context.role, context.companies])


def _wrapper(execute, sql, params, many, call_context):
    context = _current.get()
    if context is None:
        return execute(sql, params, many, call_context)
    if connection.in_atomic_block:
        if not _in_transaction():
            # The transaction's first statement: set the role and companies before it.
            _apply(context)
        return execute(sql, params, many, call_context)
    # A statement in autocommit mode: run in a transaction of its own, opened on the driver
    # (Django's state stays "autocommit"; nothing extra in its query log).
    with connection.wrap_database_errors, connection.connection.transaction():
        _apply(context)
        return execute(sql, params, many, call_context)


@contextmanager
def _entered(context: _Context | None) -> Iterator[None]:
    previous = _current.get()
    token = _current.set(context)
    installed = enabled() and _wrapper not in connection.execute_wrappers
    if installed:
        connection.execute_wrappers.append(_wrapper)
    # Entered inside an open transaction (a test's, or a caller's): it takes the context
    # now, and gets the previous one back at the end.
    switch_now = enabled() and connection.in_atomic_block and _in_transaction()
    if switch_now:
        _apply(context or _Context("none"))
    try:
        yield
    finally:
        _current.reset(token)
        if switch_now and _in_transaction():
            _apply(previous or _Context("none"))
        if installed:
            connection.execute_wrappers.remove(_wrapper)


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
    if context is None or context.role != APP_ROLE or not enabled():
        return
    companies = _as_setting(company_ids)
    if companies == context.companies:
        return
    context.companies = companies
    if connection.in_atomic_block and _in_transaction():
        _apply(context)


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
