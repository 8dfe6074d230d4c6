"""The company in every statement: a pytest plugin that audits every SQL statement StockFlow
issues while the suite runs (PostgreSQL only: the statements are PostgreSQL's).

Each statement sent through a Django connection (``connection.execute_wrapper``, installed on
every connection, those of other threads included) is kept when its Python stack has a frame
of ``src/stockflow/`` (migrations excepted); the innermost such frame is its call site. The
statement is parsed and checked by ``tests.statements.checker`` against the tenant tables
(``stockflow.tenancy.keys.tenant_tables``). A finding fails the test that issued it, with
the statement and its call site, unless the call site is listed in
``tests.statements.allowed`` (whole-table maintenance, and the call sites not fixed yet).

A frame of ``stockflow.tenancy.keys`` (the ORM's company predicates) or of
``stockflow.tenancy.dbcontext`` (the wrapper that sets the database context) or of
``stockflow.prepared`` (statements prepared once per connection) is no call site: the
statement is its caller's. A prepared statement is checked as written, whether the message
sent was its ``PREPARE`` or an ``EXECUTE`` that names no table.

A test marked ``without_company`` issues such statements on purpose (it shows that row-level
security stops them): its statements are not audited.

``STOCKFLOW_STATEMENT_AUDIT=report`` fails nothing; either way, with
``STOCKFLOW_STATEMENT_AUDIT_FILE=path`` the distinct statements (normalized), their call
sites and findings are written to that JSON file (one per xdist worker: ``path.<worker>``),
and ``python -m tests.statements.summary path…`` prints the figures.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stockflow.prepared import as_written
from tests.statements.allowed import allowed_reason
from tests.statements.checker import Checker, Finding, normalize

SOURCE = str(Path(__file__).resolve().parents[2] / "src" / "stockflow") + os.sep
ADMIN = "django/contrib/admin"
#: not call sites: the migrations, the ORM mechanism that adds the company, and the database
#: context (row-level security), whose wrapper runs around the statements of its contexts
MECHANISM = (
    f"{os.sep}migrations{os.sep}",
    f"{os.sep}tenancy{os.sep}keys.py",
    f"{os.sep}tenancy{os.sep}dbcontext.py",
    f"{os.sep}stockflow{os.sep}prepared.py",
)
MODE = os.environ.get("STOCKFLOW_STATEMENT_AUDIT", "enforce")
REPORT_FILE = os.environ.get("STOCKFLOW_STATEMENT_AUDIT_FILE")


def call_site() -> str | None:
    """``path/in/stockflow.py:function:line`` of the innermost frame of ``src/stockflow/``;
    ``django/contrib/admin:view:0`` for a statement of Django's admin pages."""
    frame, site = sys._getframe(2), None
    while frame is not None:
        filename = frame.f_code.co_filename
        if ADMIN in filename:
            return f"{ADMIN}:{frame.f_code.co_name}:0"
        mechanism = any(part in filename for part in MECHANISM)
        if site is None and filename.startswith(SOURCE) and not mechanism:
            site = f"{filename[len(SOURCE) :]}:{frame.f_code.co_name}:{frame.f_lineno}"
        frame = frame.f_back
    return site


@dataclass
class Audit:
    checker: Checker
    active: bool = False
    #: normalized statement -> {"sites": set, "findings": [str], "tables": [str], "kind": str}
    statements: dict[str, dict] = field(default_factory=dict)
    #: the findings of the running test that no exception allows: (site, sql, finding)
    failures: list[tuple[str, str, Finding]] = field(default_factory=list)
    _cache: dict[str, tuple[list[Finding], set[str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, execute, sql, params, many, context):
        if self.active and isinstance(sql, str):
            site = call_site()
            if site is not None:
                # A prepared statement is checked as written (its EXECUTE names no table).
                self.record(as_written(sql), site)
        return execute(sql, params, many, context)

    def verdict(self, sql: str) -> tuple[list[Finding], set[str]]:
        with self._lock:
            cached = self._cache.get(sql)
        if cached is None:
            cached = (self.checker.check(sql), self.checker.touches(sql))
            with self._lock:
                self._cache[sql] = cached
        return cached

    def record(self, sql: str, site: str) -> None:
        findings, tables = self.verdict(sql)
        if not tables:
            return
        key = normalize(sql)
        with self._lock:
            entry = self.statements.setdefault(
                key,
                {
                    "sites": set(),
                    "tables": sorted(tables),
                    "findings": [str(f) for f in findings],
                    "kind": classify(findings),
                },
            )
            entry["sites"].add(site.rsplit(":", 1)[0])
            for finding in findings:
                if allowed_reason(site) is None:
                    self.failures.append((site, sql, finding))

    def dump(self, path: str) -> None:
        data = {
            sql: {**entry, "sites": sorted(entry["sites"])}
            for sql, entry in sorted(self.statements.items())
        }
        Path(path).write_text(json.dumps(data, indent=1))


def classify(findings: list[Finding]) -> str:
    """One word for a statement: ``company`` (every tenant table by company_id), ``by_id``
    (some reached by id or foreign key only), ``none`` (some with no condition at all)."""
    unscoped = [f for f in findings if f.kind != "join"]
    if any(not f.by_id for f in unscoped):
        return "none"
    return "by_id" if unscoped else "company"


_audit: Audit | None = None


def _install(sender=None, connection=None, **kwargs) -> None:
    wrappers = connection.execute_wrappers
    if _audit is not None and connection.vendor == "postgresql" and _audit not in wrappers:
        wrappers.append(_audit)


@pytest.fixture(scope="session", autouse=True)
def _statement_audit():
    global _audit
    from django.db import connections
    from django.db.backends.signals import connection_created

    from stockflow.tenancy.keys import tenant_tables
    from tests.conftest import on_postgres

    if not on_postgres():
        yield
        return
    _audit = Audit(Checker(tenant_tables()), active=True)
    connection_created.connect(_install)
    for connection in connections.all():
        _install(connection=connection)
    yield
    connection_created.disconnect(_install)
    if REPORT_FILE:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        _audit.dump(f"{REPORT_FILE}.{worker}" if worker else REPORT_FILE)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if _audit is not None:
        _audit.failures.clear()
        _audit.active = item.get_closest_marker("without_company") is None
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    try:
        result = yield
    finally:
        failures = list(_audit.failures) if _audit is not None else []
    if failures and MODE == "enforce":
        lines = [
            f"{site}: {finding}\n    {' '.join(sql.split())[:600]}"
            for site, sql, finding in dict.fromkeys(failures)
        ]
        raise AssertionError(
            "statements without their company (tests/statements):\n" + "\n".join(lines)
        )
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        if _audit is not None:
            _audit.active = False
            _audit.failures.clear()
