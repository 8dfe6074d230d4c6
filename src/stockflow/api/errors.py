"""One JSON error shape for every error under /api/.

    {"error": {"code": "validation_error", "message": "...", "fields": {"price": ["..."]}}}

``code`` is machine-readable (see ``ErrorCode``); ``fields`` appears on validation errors;
some errors add structured details (``insufficient_stock`` lists its short lines).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import models
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger("stockflow.api")


class ErrorCode(models.TextChoices):
    VALIDATION_ERROR = "validation_error"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    REQUEST_TOO_LARGE = "request_too_large"
    CONFLICT = "conflict"
    SKU_CONFLICT = "sku_conflict"
    INSUFFICIENT_STOCK = "insufficient_stock"
    HAS_HISTORY = "has_history"
    INVALID_STATUS = "invalid_status"
    OVER_RECEIPT = "over_receipt"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    THROTTLED = "throttled"
    SIGNUP_DISABLED = "signup_disabled"
    ALREADY_MEMBER = "already_member"
    INVITATION_PENDING = "invitation_pending"
    INVITATION_USED = "invitation_used"
    INVITATION_REVOKED = "invitation_revoked"
    DATABASE_UNAVAILABLE = "database_unavailable"
    SERVER_ERROR = "server_error"


class ApiError(exceptions.APIException):
    """An API error with a machine-readable code and optional structured details."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = ErrorCode.VALIDATION_ERROR
    default_detail = "Invalid request."

    def __init__(self, message: str | None = None, *, code: str | None = None, **details: Any):
        super().__init__(message or self.default_detail, code or self.default_code)
        self.error_code = str(code or self.default_code)
        self.details = details


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = ErrorCode.CONFLICT
    default_detail = "The request conflicts with the current state."


class UnprocessableEntity(ApiError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    default_detail = "The request cannot be processed."


class RequestTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = ErrorCode.REQUEST_TOO_LARGE
    default_detail = "The request body is too large."


def error_body(code: str, message: str, **extra: Any) -> dict:
    error: dict[str, Any] = {"code": str(code), "message": str(message)}
    error.update({key: value for key, value in extra.items() if value is not None})
    return {"error": error}


def _flatten_messages(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [msg for value in detail.values() for msg in _flatten_messages(value)]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten_messages(item)]
    return [str(detail)]


def _as_fields(detail: Any) -> dict[str, Any]:
    """Validation details as {field: [messages]}; nested serializers keep their structure."""
    if isinstance(detail, dict):
        return {str(k): v if isinstance(v, list | dict) else [v] for k, v in detail.items()}
    return {"non_field_errors": _flatten_messages(detail)}


def _validation_message(fields: dict[str, Any]) -> str:
    names = [name for name in fields if name != "non_field_errors"]
    if names:
        return "Invalid input: " + ", ".join(sorted(names)) + "."
    messages = _flatten_messages(fields)
    return messages[0] if messages else "Invalid input."


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    if not isinstance(exc, exceptions.APIException):
        return None  # unexpected: ApiErrorMiddleware answers 500 and logs it

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        fields = _as_fields(exc.detail)
        body = error_body(ErrorCode.VALIDATION_ERROR, _validation_message(fields), fields=fields)
    elif isinstance(exc, ApiError):
        body = error_body(exc.error_code, str(exc.detail), **exc.details)
    else:
        code = exc.default_code
        if isinstance(exc.detail, dict | list):
            message = "; ".join(_flatten_messages(exc.detail))
        else:
            message = str(exc.detail)
            code = getattr(exc.detail, "code", None) or code
            if code in {"authentication_failed", "not_authenticated"}:
                code = exc.default_code
        body = error_body(code, message)
    return Response(body, status=exc.status_code, headers=headers)


def json_error(status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)
