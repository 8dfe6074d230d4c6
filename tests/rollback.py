"""Run a Hypothesis example against the database and leave nothing behind."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction


class _Rollback(Exception):
    pass


def rolled_back(check: Callable[[], None]) -> None:
    """Run ``check`` in a savepoint that is always rolled back, so the examples of one test
    see a clean database and may reuse names and SKUs."""
    try:
        with transaction.atomic():
            check()
            raise _Rollback
    except _Rollback:
        pass
