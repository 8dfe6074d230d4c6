from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from stockflow.accounts.models import Invitation
from stockflow.tenancy.models import Role

User = get_user_model()


def password_field(**kwargs) -> serializers.CharField:
    """A password is used exactly as typed: no trimming."""
    return serializers.CharField(
        max_length=256, trim_whitespace=False, style={"input_type": "password"}, **kwargs
    )


def check_password_strength(password: str, *, field: str, user=None) -> None:
    """Django's password validators (AUTH_PASSWORD_VALIDATORS), as a 400 on ``field``."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({field: list(exc.messages)}) from None


class NewAccountSerializer(serializers.Serializer):
    """A username (Django's rules, not taken) and a password its validators accept."""

    username = serializers.CharField(max_length=150)
    password = password_field()

    def validate_username(self, value: str) -> str:
        for validator in User._meta.get_field("username").validators:
            try:
                validator(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(list(exc.messages)) from None
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("A user with that username already exists.")
        return value

    def validate(self, attrs: dict) -> dict:
        candidate = User(username=attrs["username"], email=attrs.get("email", ""))
        check_password_strength(attrs["password"], field="password", user=candidate)
        return attrs


class SignUpSerializer(NewAccountSerializer):
    email = serializers.EmailField(max_length=254)
    company_name = serializers.CharField(max_length=200)


class InvitationSerializer(serializers.ModelSerializer):
    company_id = serializers.IntegerField(read_only=True)
    invited_by = serializers.CharField(
        source="invited_by.username", read_only=True, default=None, allow_null=True
    )
    status = serializers.ChoiceField(
        choices=["pending", "accepted", "revoked", "expired"], read_only=True
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "company_id",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "sent_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields


class CreateInvitationSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class AcceptInvitationSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
    username = serializers.CharField(
        max_length=150, required=False, help_text="For a new account (caller not signed in)."
    )
    password = password_field(required=False, help_text="For a new account (caller not signed in).")


class AcceptedInvitationSerializer(serializers.Serializer):
    company_id = serializers.IntegerField()
    company_name = serializers.CharField(source="company.name")
    user_id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()


class SignedUpSerializer(AcceptedInvitationSerializer):
    pass


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = password_field()


class PasswordChangeSerializer(serializers.Serializer):
    current_password = password_field()
    new_password = password_field()


class MessageSerializer(serializers.Serializer):
    detail = serializers.CharField()
