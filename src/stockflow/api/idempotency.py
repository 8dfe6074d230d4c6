"""Safe retries with the ``Idempotency-Key`` header.

The key is claimed by inserting it in the same transaction as the operation it protects
(``INSERT … ON CONFLICT DO NOTHING``, the transaction's first write), never by checking first
and inserting after:

* the first request inserts the key, runs the operation, stores its response, commits;
* a concurrent request with the same key blocks on the unique index until the first one
  commits, then finds the key taken and answers the stored response (one effect). It holds no
  other lock while it waits, so it cannot be part of a deadlock;
* a retry after the first request committed finds the key taken at once and answers the
  stored response (the insert returns no row; one more SELECT reads the stored response);
* if the operation fails (4xx), its transaction rolls back with the key: nothing happened,
  so a retry runs the operation again.

A retry with the same key but another body (or another endpoint) is refused with 422.
Keys are scoped per company and kept ``IDEMPOTENCY_KEY_TTL_HOURS`` (see ``purge_expired_keys``
and the ``purge_idempotency_keys`` command).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from stockflow.api.errors import Conflict, UnprocessableEntity
from stockflow.api.models import IdempotencyKey
from stockflow.sqlparams import datetime_param

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A key: 1 to MAX_KEY_LENGTH printable ASCII characters, no space at either end (HTTP drops
# them). The schema's pattern; its ``[ -~]`` means the same in Python and ECMA-262.
KEY_PATTERN = f"[!-~](?:[ -~]{{0,{MAX_KEY_LENGTH - 2}}}[!-~])?"
KEY = re.compile(KEY_PATTERN)
REPLAY_HEADER = "Idempotent-Replayed"
# A key purged between our failed claim and our read (past its TTL) is claimed again.
MAX_CLAIM_ATTEMPTS = 3
# Keys are kept at least this long whatever IDEMPOTENCY_KEY_TTL_HOURS says.
MIN_TTL_HOURS = 24


def request_fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    # Routes answer with or without a trailing slash: both are the same endpoint.
    raw = f"{request.method} {request.path.rstrip('/')}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip(" \t")  # HTTP's optional whitespace around a field value
    if not KEY.fullmatch(key):
        raise exceptions.ValidationError(
            {HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."]}
        )
    return key


def _claim(company_id: int, key: str, fingerprint: str) -> int | None:
    table = IdempotencyKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (company_id, key, fingerprint, status_code, response_body,"
            " created_at) VALUES (%s, %s, %s, 0, %s, %s)"
            " ON CONFLICT (company_id, key) DO NOTHING RETURNING id",
            [company_id, key, fingerprint, "null", datetime_param(timezone.now())],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise UnprocessableEntity(
            "This Idempotency-Key was already used with a different request.",
        )
    return Response(
        json.loads(stored.response_body),
        status=stored.status_code,
        headers={REPLAY_HEADER: "true"},
    )


def _stored_body(response: Response) -> str:
    # The body is kept as its JSON text: a jsonb column would reorder its keys, and a replay
    # must render the same body as the first response, key order included.
    return json.dumps(response.data, cls=DjangoJSONEncoder)


def run_idempotent(
    request: Request,
    company_id: int | Callable[[], int],
    operation: Callable[[], Response],
    *,
    prepare: Callable[[], None] | None = None,
) -> Response:
    """Run ``operation`` (which returns a 2xx Response or raises) in one transaction, at most
    once per ``Idempotency-Key`` of the company.

    ``company_id`` may be a callable: it is then called only for a request with a key, before
    the transaction, since claiming the key needs it (a sale finds its company by resolving
    its product, which it may otherwise skip, see ``inventory.sales.sell``).

    ``prepare``, if given, runs first and outside that transaction: idempotent work the
    operation needs committed beforehand (creating missing stock levels, see
    ``inventory.levels``). A response that is not 2xx is rolled back and not stored."""
    key = idempotency_key(request)
    if prepare is not None:
        prepare()
    if key is None:
        with transaction.atomic():
            return _run(operation)

    if callable(company_id):
        company_id = company_id()
    fingerprint = request_fingerprint(request)
    for _ in range(MAX_CLAIM_ATTEMPTS):
        with transaction.atomic():
            claimed_id = _claim(company_id, key, fingerprint)
            if claimed_id is not None:
                response = _run(operation)
                if 200 <= response.status_code < 300:
                    IdempotencyKey.objects.filter(company_id=company_id, pk=claimed_id).update(
                        status_code=response.status_code, response_body=_stored_body(response)
                    )
                return response
        # Taken by a request that committed (if it was running, the claim waited for it).
        stored = IdempotencyKey.objects.filter(company_id=company_id, key=key).first()
        if stored is not None:
            return _replay(stored, fingerprint)
    raise Conflict("This Idempotency-Key is being purged and reused; retry later.")


def _run(operation: Callable[[], Response]) -> Response:
    response = operation()
    if not 200 <= response.status_code < 300:
        transaction.set_rollback(True)
    return response


def purge_expired_keys(*, older_than_hours: int | None = None, batch_size: int = 10_000) -> int:
    """Delete keys older than ``older_than_hours`` (default ``IDEMPOTENCY_KEY_TTL_HOURS``,
    never less than ``MIN_TTL_HOURS``), in batches so that a large purge never holds long
    locks. Returns how many were deleted."""
    hours = settings.IDEMPOTENCY_KEY_TTL_HOURS if older_than_hours is None else older_than_hours
    hours = max(hours, MIN_TTL_HOURS)
    cutoff = timezone.now() - timedelta(hours=hours)
    deleted = 0
    while True:
        ids = list(
            IdempotencyKey.objects.filter(created_at__lt=cutoff)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        deleted += IdempotencyKey.objects.filter(id__in=ids).delete()[0]
