"""The call sites whose statements may leave a tenant table without its company: the one
list of exceptions to ``tests/statements``.

``EXCEPTIONS``: work that is about every company at once (whole-table maintenance, the
worker's search for due work, rules of the whole platform), each with why.
``PENDING``: call sites that still reach tenant rows by id or foreign key only, each with
what is missing. The list may only shrink: a finding at any other call site fails its test.

A call site is ``path/under/src/stockflow.py:function`` (or a whole ``path``).
"""

from __future__ import annotations

EXCEPTIONS: dict[str, str] = {
    "inventory/selectors.py:_check": (
        "the stock invariants (manage.py verify_stock) are checked over every company at once"
    ),
    "api/idempotency.py:purge_expired_keys": "purges the expired keys of every company",
    "notifications/services.py:purge_dispatched_events": (
        "purges the old dispatch markers of every company"
    ),
    "notifications/services.py:sweep_deliveries": (
        "the worker looks for the due webhook deliveries of every company"
    ),
    "notifications/services.py:dispatch_new_events": (
        "the worker reads the new stock events of every company (the outbox)"
    ),
    "notifications/emails.py:send_daily_digests": (
        "the worker looks for the digests due in every company"
    ),
    "notifications/emails.py:send_immediate_alerts": (
        "the worker looks for the alerts due in every company"
    ),
    "accounts/services.py:accept_invitation": (
        "an invitation is found by its token, before its company is known"
    ),
    "django/contrib/admin": "the platform's admin pages show the rows of every company",
}

PENDING: dict[str, str] = {}


def allowed_reason(site: str) -> str | None:
    """Why ``site`` (``path:function:line``) may leave a tenant table without its company,
    or None."""
    path, function = site.split(":")[:2]
    for key in (f"{path}:{function}", path):
        reason = EXCEPTIONS.get(key) or PENDING.get(key)
        if reason is not None:
            return reason
    return None
