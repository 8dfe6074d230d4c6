"""The call sites whose statements may leave a tenant table without its company: the one
list of exceptions to ``tests/statements``.

``MAINTENANCE``: whole-table work, which is about every company at once, each with why.
``PENDING``: call sites that still reach tenant rows by id or foreign key only; the list may
only shrink (a finding at any other call site fails its test).

A call site is ``path/under/src/stockflow.py:function``.
"""

from __future__ import annotations

MAINTENANCE: dict[str, str] = {}

PENDING: dict[str, str] = {}


def allowed_reason(site: str) -> str | None:
    """Why ``site`` (``path:function:line``) may leave a tenant table without its company,
    or None."""
    path, function = site.split(":")[:2]
    for key in (f"{path}:{function}", path):
        reason = MAINTENANCE.get(key) or PENDING.get(key)
        if reason is not None:
            return reason
    return None
