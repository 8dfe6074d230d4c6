"""OpenAPI schema generation: every operation documents the errors it can answer, each with
the one error shape of ``api/errors.py``."""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication

from stockflow.api.fields import MoneyField
from stockflow.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from stockflow.api.idempotency import KEY_PATTERN, MAX_KEY_LENGTH, MIN_TTL_HOURS
from stockflow.api.pagination import PageNumberPagination
from stockflow.api.serializers import FixedAfterCreation
from stockflow.tenancy.scoping import TenantMixin

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": f"^{KEY_PATTERN}$",
    },
    OpenApiParameter.HEADER,
    description="Makes retries safe: a retry with the same key and body gets the first "
    "response again without a second effect; the same key with another body is refused (422). "
    f"Keys are 1 to {MAX_KEY_LENGTH} printable ASCII characters (space to `~`; no space at "
    f"either end), scoped per company and kept at least {MIN_TTL_HOURS} hours.",
)


class MoneyFieldExtension(OpenApiSerializerFieldExtension):
    """Requests: exactly the forms ``MoneyField`` accepts (a number by value, a string by
    ``pattern``). Responses: the string it returns, with all its decimal places."""

    target_class = MoneyField

    def map_serializer_field(self, auto_schema, direction):
        field: MoneyField = self.target
        places = field.decimal_places
        whole = field.max_digits - places
        if direction == "response":
            return {
                "type": "string",
                "format": "decimal",
                "pattern": f"^(?:0|[1-9][0-9]{{0,{whole - 1}}})\\.[0-9]{{{places}}}$",
            }
        return {
            "oneOf": [
                {
                    "type": "number",
                    "minimum": 0,
                    "maximum": float(field.largest),
                    "multipleOf": float(field.step),
                },
                {"type": "string", "pattern": field.string_pattern},
            ]
        }


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
    def get_request_serializer(self):
        """Updates document their own body: without the fields fixed once created."""
        serializer = super().get_request_serializer()
        if self.method in ("PUT", "PATCH"):
            cls = serializer if isinstance(serializer, type) else type(serializer)
            if issubclass(cls, FixedAfterCreation) and cls.has_fields_fixed_on_update():
                return cls.for_update()
        return serializer

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
