"""Serializer fields shared by the apps: money, and the ids that decide a request's company.

Their OpenAPI schemas are in ``api/schema.py``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from rest_framework import serializers

from stockflow.tenancy.models import Company, Role
from stockflow.tenancy.scoping import TenantRelatedField

# Plain decimal digits of any length: a string that has this shape but not the field's
# pattern is refused with the precise reason (too many decimals or digits).
_PLAIN_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def money_string_pattern(max_digits: int, decimal_places: int) -> str:
    """The string forms of ``MoneyField``, as a regular expression that means the same in
    Python (``re.fullmatch``) and in an OpenAPI/ECMA-262 ``pattern``: no ``\\d`` (Python's
    matches every Unicode digit) and ``[0-9]`` only."""
    whole = max_digits - decimal_places
    integer = f"(?:0|[1-9][0-9]{{0,{whole - 1}}})"
    fraction = f"(?:\\.[0-9]{{1,{decimal_places}}}0*)?" if decimal_places else "(?:\\.0+)?"
    return f"^{integer}{fraction}$"


def money_number_bounds(max_digits: int, decimal_places: int) -> tuple[Decimal, Decimal]:
    """The largest amount and the step of a ``MoneyField`` of this precision."""
    step = Decimal(1).scaleb(-decimal_places)
    return Decimal(10) ** (max_digits - decimal_places) - step, step


class MoneyField(serializers.DecimalField):
    """An amount of money, not negative, kept exact from the request text to the database.

    Accepted, for a column of ``max_digits`` digits of which ``decimal_places`` are decimals
    (prices: 12 and 2, so at most 10 digits before the point):

    * a JSON number (the API's JSON parser reads it as ``Decimal``, never as a float), in any
      JSON spelling, exponent included (``1e2`` is 100), whose value is at least 0, below
      ``10 ** (max_digits - decimal_places)`` and a whole number of the smallest unit
      (0.01 for a price). Digits past ``decimal_places`` are allowed only if they are zeros
      (``19.990`` is 19.99; ``19.991`` is refused, never rounded);
    * a JSON string of plain decimal digits: an integer part without leading zeros (``"0"``,
      ``"19"``), then optionally a point and at least one digit, with the same rule for
      digits past ``decimal_places`` (``"19.9"``, ``"19.990"``).

    Refused: any sign in a string (``"+1"``, ``"-0"``), an exponent in a string (``"1e2"``),
    underscores (``"1_000"``), spaces, a bare point (``"1."``, ``".5"``), leading zeros
    (``"007"``), digits other than ASCII 0-9, an empty string (even where ``null`` is
    allowed), NaN and infinities, booleans, ``null`` (unless ``allow_null``), and any value
    negative or too large for the column. The schema says
    exactly this: a ``oneOf`` of the number (``minimum``, ``maximum``, ``multipleOf``) and the
    string (``pattern`` = ``money_string_pattern``). Returned as a string with exactly
    ``decimal_places`` decimals (``"19.90"``).
    """

    default_error_messages = {
        "invalid": (
            "A valid amount is required: a JSON number or a string of plain decimal digits "
            'such as "19.99" (no sign, exponent, spaces or underscores).'
        ),
    }

    def __init__(self, max_digits: int, decimal_places: int, **kwargs) -> None:
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(max_digits, decimal_places, **kwargs)
        self.string_pattern = money_string_pattern(max_digits, decimal_places)
        self._string_form = re.compile(self.string_pattern)
        self.largest, self.step = money_number_bounds(max_digits, decimal_places)

    def validate_empty_values(self, data):
        # Not DecimalField's: an empty or blank string is not null, it is refused.
        return serializers.Field.validate_empty_values(self, data)

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not self._string_form.fullmatch(data):
                if _PLAIN_DECIMAL.fullmatch(data):
                    # Well formed but too precise or too large: say which, as for a number.
                    super().to_internal_value(self._without_zeros_past_scale(Decimal(data)))
                self.fail("invalid")
        elif isinstance(data, bool) or not isinstance(data, int | Decimal):
            self.fail("invalid")
        value = Decimal(data)
        if not value.is_finite():
            self.fail("invalid")
        return super().to_internal_value(self._without_zeros_past_scale(value))

    def _without_zeros_past_scale(self, value: Decimal) -> Decimal:
        """The same amount without the zero digits past ``decimal_places`` (in linear time:
        a JSON number may carry a megabyte of them)."""
        if value.is_zero():
            return Decimal(0)
        sign, digits, exponent = value.as_tuple()
        past_scale = -self.decimal_places - exponent
        if past_scale <= 0:
            return value
        zeros = len(digits) - len(bytes(digits).rstrip(b"\0"))
        drop = min(zeros, past_scale)
        return Decimal((sign, digits[: len(digits) - drop], exponent + drop))


def deciding_id_field(queryset, **kwargs) -> TenantRelatedField:
    """The id whose object decides the company a request acts in (``company_id`` of a new
    object, ``product_id`` of a stock operation...): unknown or of another company is 404;
    resolved among every company the caller belongs to, so that a member whose role is too
    low gets 403 from the view rather than 404."""
    kwargs.setdefault("role", Role.VIEWER)
    return TenantRelatedField(queryset=queryset, not_found="404", **kwargs)


def company_id_field(**kwargs) -> TenantRelatedField:
    """``company_id`` of a new object (see ``deciding_id_field``)."""
    kwargs.setdefault("help_text", "The company that owns the object; fixed once created.")
    return deciding_id_field(Company.objects.all(), source="company", tenant_field="id", **kwargs)
