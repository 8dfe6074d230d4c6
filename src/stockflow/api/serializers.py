"""Serializer behaviour shared by the apps."""

from __future__ import annotations

import functools

from rest_framework import serializers

FIXED_MESSAGE = "Cannot be changed once created."


class FixedAfterCreation:
    """Mixin: fields that choose the owner or the ends of a link are writable on create only;
    on update they are read-only, and sending a different value is a 400.

    The schema documents updates (PUT, PATCH) with ``for_update()``: the same serializer
    without these fields in its request body."""

    fixed_fields: tuple[str, ...] = ()
    # True on the class that ``for_update()`` makes: fields as on update, without an instance.
    describes_update = False

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None or self.describes_update:
            for name in self.fixed_fields:
                fields[name] = serializers.IntegerField(read_only=True)
        return fields

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and hasattr(self, "initial_data"):
            errors = {
                name: [FIXED_MESSAGE]
                for name in self.fixed_fields
                if name in self.initial_data
                and str(self.initial_data[name]) != str(getattr(self.instance, name))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return attrs

    @classmethod
    @functools.cache
    def for_update(cls) -> type:
        """This serializer as an update sees it, named ``<Name>Update`` in the schema."""
        name = cls.__name__.removesuffix("Serializer") + "UpdateSerializer"
        doc = (cls.__doc__ or "").strip()
        fixed = ", ".join(f"`{name}`" for name in cls.fixed_fields)
        doc = (
            f"{doc}\n\nAn update cannot change {fixed}: left out here; sending a value other "
            "than the current one is a 400."
        ).strip()
        return type(name, (cls,), {"describes_update": True, "__doc__": doc})

    @classmethod
    @functools.cache
    def has_fields_fixed_on_update(cls) -> bool:
        """Whether an update body differs from a create body (some fixed field is writable
        on create)."""
        declared = cls().get_fields()
        return any(not declared[name].read_only for name in cls.fixed_fields if name in declared)
