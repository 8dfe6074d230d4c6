from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse

from stockflow.api.errors import ErrorCode, json_error

logger = logging.getLogger("stockflow.api")

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


class ApiErrorMiddleware:
    """Keeps every error under /api/ in the JSON error shape.

    DRF's exception handler covers errors raised inside API views; this covers the rest:
    unknown URLs (Django's 404 page), and unexpected exceptions (a 500 that is logged with
    its traceback but answered without one).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api_request(request)
            and response.status_code in (404, 405, 500)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            if response.status_code == 404:
                return json_error(404, ErrorCode.NOT_FOUND, "Not found.")
            if response.status_code == 405:
                return json_error(405, ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed.")
            return json_error(500, ErrorCode.SERVER_ERROR, "Internal server error.")
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not is_api_request(request):
            return None
        if isinstance(exception, Http404):
            return json_error(404, ErrorCode.NOT_FOUND, "Not found.")
        if isinstance(exception, RequestDataTooBig):
            return json_error(413, ErrorCode.REQUEST_TOO_LARGE, "The request body is too large.")
        if isinstance(exception, OperationalError | InterfaceError):
            # The database is down, restarting or out of connections (the pool's wait is
            # bounded by DATABASE_POOL_TIMEOUT): nothing was committed, a retry will do.
            logger.warning(
                "Database unavailable on %s %s: %s",
                request.method,
                request.path,
                type(exception.__cause__ or exception).__name__,
            )
            response = json_error(
                503,
                ErrorCode.DATABASE_UNAVAILABLE,
                "The database is unavailable; retry in a few seconds (with the same "
                "Idempotency-Key for a write).",
            )
            response["Retry-After"] = str(settings.STOCKFLOW_DATABASE_RETRY_AFTER)
            return response
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return json_error(500, ErrorCode.SERVER_ERROR, "Internal server error.")


class ApiBodySizeLimitMiddleware:
    """Refuses an API request whose body is larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    (413 in the JSON error shape) before anything reads it.

    Django applies that limit to JSON and form bodies only when they are read into memory;
    the files of a multipart body are streamed to disk whatever their size. The one API
    endpoint taking a file, the import upload (``UPLOAD_PATHS``), has its own limit,
    ``STOCKFLOW_IMPORT_MAX_BYTES``; the limit holds for the whole body of every other one."""

    UPLOAD_PATHS = {"/api/imports", "/api/imports/"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.method == "POST" and request.path in self.UPLOAD_PATHS:
            limit = settings.STOCKFLOW_IMPORT_MAX_BYTES
        if limit is not None and is_api_request(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # Django reads no body without a valid length
            if length > limit:
                return json_error(
                    413, ErrorCode.REQUEST_TOO_LARGE, "The request body is too large."
                )
        return self.get_response(request)
