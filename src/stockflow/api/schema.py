"""OpenAPI schema generation: every operation documents the errors it can answer, each with
the one error shape of ``api/errors.py``."""

from __future__ import annotations

from drf_spectacular import openapi
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication

from stockflow.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from stockflow.api.pagination import PageNumberPagination
from stockflow.tenancy.scoping import TenantMixin


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: validation_error, not_found, sku_conflict, ..."
    )
    message = serializers.CharField(help_text="For people; may change.")
    fields = serializers.DictField(
        required=False,
        help_text="validation_error only: the messages of each invalid field or parameter.",
    )


class ErrorSerializer(serializers.Serializer):
    """Every error under /api/. Some errors add details beside `code` and `message`
    (`insufficient_stock` lists its short `lines`)."""

    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    "400": "validation_error (error.fields names each invalid field or query parameter) "
    "or parse_error.",
    "401": "not_authenticated or authentication_failed.",
    "403": "permission_denied: the caller's role in the company is too low, or a "
    "session-authenticated write came without its CSRF token.",
    "404": "not_found: no such object among the caller's companies (another company's "
    "object is answered exactly like a missing one), or a page past the last one.",
    "409": "The request conflicts with the current state (sku_conflict, has_history, "
    "insufficient_stock, ...); nothing was written.",
    "413": "request_too_large: the body exceeds the configured limit.",
    "415": "unsupported_media_type: send application/json.",
    "422": "idempotency_key_reused: the key was used with another request.",
    "429": "throttled: too many requests; retry after Retry-After seconds.",
    "503": "database_unavailable: the database is restarting or out of reach; nothing was "
    "written. Retry after Retry-After seconds (a write with the same Idempotency-Key).",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            self._document_errors(operation)
        return operation

    def error_codes(self, operation: dict) -> set[str]:
        """The error statuses this operation can answer, from what the view does."""
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        tenant = isinstance(self.view, TenantMixin)
        unsafe = self.method in UNSAFE_METHODS
        session = any(
            issubclass(cls, SessionAuthentication)
            for cls in getattr(self.view, "authentication_classes", [])
        )
        paged = self._is_list_view() and isinstance(self._get_paginator(), PageNumberPagination)
        codes = {"401", "429", "503"}
        if has_body or any(p["in"] == "query" for p in parameters):
            codes.add("400")
        if tenant or (unsafe and session):
            codes.add("403")
        if any(p["in"] == "path" for p in parameters) or paged or (tenant and has_body):
            codes.add("404")
        if tenant and unsafe:
            codes.add("409")
        if has_body:
            codes.update({"413", "415"})
        if any(p["in"] == "header" and p["name"] == IDEMPOTENCY_HEADER for p in parameters):
            codes.add("422")
        return codes

    def _document_errors(self, operation: dict) -> None:
        responses = operation["responses"]
        for code in self.error_codes(operation):
            responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code >= "400" and "content" not in response:
                body = self._get_response_for_code(ErrorSerializer, code)
                response["content"] = body["content"]
                response["description"] = response.get("description") or ERROR_DESCRIPTIONS.get(
                    code, ""
                )
        operation["responses"] = dict(sorted(responses.items()))
