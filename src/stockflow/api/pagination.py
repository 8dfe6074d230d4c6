"""Pagination of the API lists.

A malformed ``page`` (not a whole number from 1), ``page_size`` (not 1 to 500) or ``cursor``
is a 400 naming the parameter, where DRF would silently use the default page size, clamp it,
answer 404, or let a malformed cursor position reach the database. A well-formed page past
the last one stays DRF's 404.
"""

from __future__ import annotations

import re

from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from stockflow.api.limits import BIGINT_MAX

MAX_PAGE_SIZE = 500
# Enough digits for any page number or id; a longer string is refused before int() sees it.
WHOLE_NUMBER = re.compile(r"[0-9]{1,19}")
DIGITS = re.compile(r"[0-9]+")
# What ``CursorPagination.encode_cursor`` writes: standard base64 (its "+" and "/" are
# percent-encoded in the links).
CURSOR_PATTERN = "[A-Za-z0-9+/]+={0,2}"
CURSOR = re.compile(CURSOR_PATTERN)


def invalid(name: str, message: str) -> ValidationError:
    return ValidationError({name: [message]})


class BoundedPageSizeMixin:
    """``page_size`` is a whole number from 1 to ``max_page_size``."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        raw = raw.strip()
        if not WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= self.max_page_size:
            raise invalid(
                self.page_size_query_param,
                f"Must be a whole number from 1 to {self.max_page_size}.",
            )
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


class PageNumberPagination(BoundedPageSizeMixin, pagination.PageNumberPagination):
    def get_page_number(self, request, paginator) -> int | str:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        raw = raw.strip()
        if raw in self.last_page_strings:
            return paginator.num_pages
        if not DIGITS.fullmatch(raw) or not raw.strip("0"):
            raise invalid(self.page_query_param, "Must be a whole number from 1.")
        if not WHOLE_NUMBER.fullmatch(raw):
            # Like any page past the last one: DRF's 404 "Invalid page."
            raise NotFound(self.invalid_page_message.format(page_number=raw, message=""))
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


class NewestFirstCursorPagination(BoundedPageSizeMixin, pagination.CursorPagination):
    """Stable paging over append-only, time-ordered rows (ledger, sales), newest id first."""

    ordering = "-id"

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not CURSOR.fullmatch(encoded):
            raise invalid(self.cursor_query_param, "Invalid cursor.")
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid(self.cursor_query_param, "Invalid cursor.") from None
        # The position is an id: anything else would reach the database as a bad integer.
        position = None if cursor is None else cursor.position
        if position is not None and (
            not WHOLE_NUMBER.fullmatch(position) or int(position) > BIGINT_MAX
        ):
            raise invalid(self.cursor_query_param, "Invalid cursor.")
        return cursor

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.cursor_query_param:
                parameter["description"] = (
                    "Opaque position: the `cursor` of the `next` or `previous` link of an "
                    "earlier page, unchanged. Any other value is 400 (validation_error on "
                    "`cursor`); omitted, the first page."
                )
                parameter["schema"]["pattern"] = f"^{CURSOR_PATTERN}$"
        return parameters
