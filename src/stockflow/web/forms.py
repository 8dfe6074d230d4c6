"""Forms of the web app, validated by the API's own serializers.

A ``Form`` only describes the inputs of a page (names, labels, types) and carries what the
user typed and the errors to show beside each input. Validation is the serializers' and the
services' (``backend``): their ``ValidationError`` and 409 details are mapped back onto the
inputs with ``Form.add_errors``, so a page shows exactly the API's messages.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rest_framework import exceptions

from stockflow.api.errors import ApiError, ErrorCode

NON_FIELD = "non_field_errors"
IDEMPOTENCY_FIELD = "idempotency_key"


@dataclass
class Input:
    name: str
    label: str
    type: str = "text"  # text, number, email, password, textarea, select, checkbox, hidden
    required: bool = False
    help: str = ""
    choices: list[tuple[Any, str]] = field(default_factory=list)
    step: str = ""
    min: str = ""
    value: Any = ""
    errors: list[str] = field(default_factory=list)
    autofocus: bool = False

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def checked(self) -> bool:
        return str(self.value).lower() in {"true", "on", "1"}

    @property
    def selected(self) -> str:
        return "" if self.value is None else str(self.value)


def warehouse_choices(warehouses: Iterable) -> list[tuple[int, str]]:
    """The options of a warehouse select, each warehouse shown as "CODE — Name"."""
    return [(warehouse.id, f"{warehouse.code} — {warehouse.name}") for warehouse in warehouses]


class Form:
    """The inputs of one form, bound to what the user sent (or to initial values).

    ``aliases`` maps a serializer's field name to the input that shows its errors (e.g. the
    API's ``product_id`` is typed here as a SKU)."""

    def __init__(
        self,
        inputs: Iterable[Input],
        *,
        data: Mapping | None = None,
        initial: Mapping | None = None,
        aliases: Mapping[str, str] | None = None,
        idempotent: bool = False,
    ) -> None:
        self.inputs = {item.name: item for item in inputs}
        self.aliases = dict(aliases or {})
        self.non_field_errors: list[str] = []
        source = data if data is not None else (initial or {})
        for item in self.inputs.values():
            if item.name in source:
                item.value = source[item.name]
            elif data is not None and item.type == "checkbox":
                item.value = False
            if item.type == "password":
                item.value = ""  # a password is never sent back to the browser
        self.idempotency_key = ""
        if idempotent:
            # Generated when the form is first shown; a re-shown form keeps the one it had,
            # so a resubmit after an error is still the same attempt.
            sent = data.get(IDEMPOTENCY_FIELD, "") if data is not None else ""
            self.idempotency_key = sent or uuid.uuid4().hex

    def __getitem__(self, name: str) -> Input:
        return self.inputs[name]

    def __iter__(self):
        return iter(self.inputs.values())

    @property
    def visible(self) -> list[Input]:
        return [item for item in self.inputs.values() if item.type != "hidden"]

    @property
    def hidden(self) -> list[Input]:
        return [item for item in self.inputs.values() if item.type == "hidden"]

    @property
    def has_errors(self) -> bool:
        return bool(self.non_field_errors) or any(item.errors for item in self.inputs.values())

    def add_error(self, name: str | None, message: str) -> None:
        name = self.aliases.get(name, name) if name else None
        if name in self.inputs and self.inputs[name].type != "hidden":
            self.inputs[name].errors.append(message)
        elif name and name != NON_FIELD:
            self.non_field_errors.append(f"{name}: {message}")
        else:
            self.non_field_errors.append(message)

    def add_errors(self, error: Exception) -> None:
        """Show an API error: a ValidationError per field, a 409 on the field it names."""
        if isinstance(error, exceptions.ValidationError):
            for name, messages in _flatten(error.detail):
                for message in messages:
                    self.add_error(name, message)
            return
        if isinstance(error, ApiError):
            details = error.details
            name = details.get("field")
            if error.error_code == ErrorCode.SKU_CONFLICT:
                name = "sku"
            message = str(error.detail)
            lines = details.get("lines")
            if lines:
                message += " " + "; ".join(
                    f"{line['requested']} requested, {line['available']} available"
                    for line in lines
                )
            self.add_error(name, message)
            return
        self.add_error(None, str(getattr(error, "detail", error)))


def _flatten(detail: Any, prefix: str = "") -> list[tuple[str | None, list[str]]]:
    """(field name, messages) of an error detail. The errors of a nested list are named by
    path, as the API lists them: ``lines.1.quantity`` is the quantity of the second line."""
    if isinstance(detail, Mapping):
        pairs: list[tuple[str | None, list[str]]] = []
        for name, value in detail.items():
            pairs += _field_messages(f"{prefix}{name}", value)
        return pairs
    if isinstance(detail, list):
        return [(prefix.rstrip(".") or None, [str(m) for m in detail])]
    return [(prefix.rstrip(".") or None, [str(detail)])]


def _field_messages(name: str, value: Any) -> list[tuple[str | None, list[str]]]:
    if isinstance(value, Mapping):  # a nested object, or a service's {"<index>": {...}}
        return _flatten(value, f"{name}.")
    if isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
        # a list serializer's errors: one (maybe empty) mapping per item
        return [
            pair
            for index, item in enumerate(value)
            if item
            for pair in _flatten(item, f"{name}.{index}.")
        ]
    return [(name, [str(m) for m in (value if isinstance(value, list) else [value])])]


def form_data(post: Mapping) -> dict[str, str]:
    """What a form sent, as plain values, without the CSRF token and the idempotency key:
    the body the idempotency fingerprint is taken of."""
    return {key: post[key] for key in post if key not in {"csrfmiddlewaretoken", IDEMPOTENCY_FIELD}}
