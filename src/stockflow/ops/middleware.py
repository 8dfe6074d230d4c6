"""One middleware for what every request needs from operations: a request id, a JSON log
line, and the metrics."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid

from django.db import DEFAULT_DB_ALIAS, connections

from stockflow.ops import metrics
from stockflow.ops.logs import request_id

logger = logging.getLogger("stockflow.request")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# POST routes that move stock, by URL name.
STOCK_OPERATIONS = {
    "sale-list": "sale",
    "stock-receipt": "receipt",
    "stock-adjustment": "adjustment",
    "stock-transfer": "transfer",
}


def error_code(response) -> str | None:
    if response.status_code < 400:
        return None
    data = getattr(response, "data", None)
    if data is None and response.get("Content-Type", "").startswith("application/json"):
        try:  # a JsonResponse of ApiErrorMiddleware: small, errors only
            data = json.loads(response.content)
        except (ValueError, AttributeError):
            data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return data["error"].get("code")
    return None


def company_of(request, response) -> int | None:
    kwargs = getattr(getattr(request, "resolver_match", None), "kwargs", {}) or {}
    for name in ("company_pk", "company_id"):
        if str(kwargs.get(name, "")).isdigit():
            return int(kwargs[name])
    data = getattr(response, "data", None)
    if isinstance(data, dict) and isinstance(data.get("company_id"), int):
        return data["company_id"]
    return None


def observe_pool() -> None:
    pool = getattr(connections[DEFAULT_DB_ALIAS], "pool", None)
    if pool is None:
        return
    stats = pool.get_stats()
    size = stats.get("pool_size", 0)
    metrics.DB_POOL_CONNECTIONS.labels("open").set(size)
    metrics.DB_POOL_CONNECTIONS.labels("idle").set(stats.get("pool_available", 0))
    metrics.DB_POOL_CONNECTIONS.labels("waiting").set(stats.get("requests_waiting", 0))


class RequestObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = rid
        reset = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = rid
            self.record(request, response, time.perf_counter() - started)
            return response
        finally:
            request_id.reset(reset)

    def record(self, request, response, seconds: float) -> None:
        match = getattr(request, "resolver_match", None)
        route = (match.view_name if match else None) or "unmatched"
        status = response.status_code
        metrics.REQUEST_DURATION.labels(route, request.method, str(status)).observe(seconds)
        code = error_code(response)
        kind = STOCK_OPERATIONS.get(route) if request.method == "POST" else None
        if kind:
            outcome = "ok" if status < 400 else (code or f"http_{status}")
            metrics.STOCK_OPERATIONS.labels(kind, outcome).inc()
            if code == "insufficient_stock":
                metrics.INSUFFICIENT_STOCK.labels(kind).inc()
        if code == "database_unavailable":
            metrics.DATABASE_UNAVAILABLE.inc()
        with contextlib.suppress(Exception):  # metrics never fail a request
            observe_pool()
        user = getattr(request, "user", None)
        logger.info(
            "%s %s %s",
            request.method,
            route,
            status,
            extra={
                "method": request.method,
                "route": route,
                "path": request.path,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "user": user.pk if user is not None and user.is_authenticated else None,
                "company": company_of(request, response),
            },
        )
