"""Safe retries with the ``Idempotency-Key`` header.

The key is claimed by inserting it in the same transaction as the operation it protects
(``INSERT … ON CONFLICT DO NOTHING``), never by checking first and inserting after:

* the first request inserts the key, runs the operation, stores its response, commits;
* a concurrent request with the same key blocks on the unique index until the first one
  commits, then finds the key taken and answers the stored response (one effect);
* if the operation fails (4xx), its transaction rolls back with the key: nothing happened,
  so a retry runs the operation again.

A retry with the same key but another body (or another endpoint) is refused with 422.
Keys are scoped per company and kept ``IDEMPOTENCY_KEY_TTL_HOURS`` (see ``purge_idempotency_keys``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from stockflow.api.errors import UnprocessableEntity
from stockflow.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAY_HEADER = "Idempotent-Replayed"


def request_fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    raw = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} printable characters."]}
        )
    return key


def _claim(company_id: int, key: str, fingerprint: str) -> int | None:
    table = IdempotencyKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (company_id, key, fingerprint, status_code, response_body,"
            " created_at) VALUES (%s, %s, %s, 0, %s, %s)"
            " ON CONFLICT (company_id, key) DO NOTHING RETURNING id",
            [company_id, key, fingerprint, "null", timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise UnprocessableEntity(
            "This Idempotency-Key was already used with a different request.",
        )
    return Response(
        stored.response_body, status=stored.status_code, headers={REPLAY_HEADER: "true"}
    )


def run_idempotent(
    request: Request, company_id: int, operation: Callable[[], Response]
) -> Response:
    """Run ``operation`` (which returns a 2xx Response or raises) at most once per key."""
    key = idempotency_key(request)
    if key is None:
        with transaction.atomic():
            return operation()

    fingerprint = request_fingerprint(request)
    stored = IdempotencyKey.objects.filter(company_id=company_id, key=key).first()
    if stored is not None:
        return _replay(stored, fingerprint)

    with transaction.atomic():
        claimed_id = _claim(company_id, key, fingerprint)
        if claimed_id is not None:
            response = operation()
            IdempotencyKey.objects.filter(pk=claimed_id).update(
                status_code=response.status_code,
                response_body=json.loads(json.dumps(response.data, cls=DjangoJSONEncoder)),
            )
            return response
    # Another request holding the same key committed while we waited on it.
    return _replay(IdempotencyKey.objects.get(company_id=company_id, key=key), fingerprint)
