"""Query-parameter filter types shared by the API lists: a bad value is a 400 on the
parameter, never a silently ignored filter or a database error."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from stockflow.api.limits import BIGINT_MAX


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)  # a larger number is no id: 400, not a crash
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(django_filters.NumberFilter):
    """An integer id (``NumberFilter`` would accept decimals)."""

    field_class = IdField


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or 1/0, yes/no); anything else is a 400, not silently ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in {"true", "1", "yes"}:
            return True
        if text in {"false", "0", "no"}:
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC here: a database refuses some offsets Python
    accepts (PostgreSQL: beyond 15:59), and near year 1 or 9999 the conversion overflows."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(
                "Out of the supported date range.", code="invalid"
            ) from None


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField
