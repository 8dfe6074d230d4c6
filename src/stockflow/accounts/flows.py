"""The account requests as the API and the web app both run them: the API's input
serializers, then the services. A view (JSON or HTML) only turns the result into an answer;
each function raises the API's exceptions (``ValidationError``, ``Conflict``)."""

from __future__ import annotations

from collections.abc import Mapping

from django.shortcuts import get_object_or_404

from stockflow.accounts import services
from stockflow.accounts.models import Invitation
from stockflow.accounts.serializers import (
    AcceptInvitationSerializer,
    CreateInvitationSerializer,
    NewAccountSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    SignUpSerializer,
    check_password_strength,
)
from stockflow.tenancy.models import Company, Membership


def _validated(serializer_class, data: Mapping) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def invite(data: Mapping, *, company_id: int, invited_by, inviter_role: str) -> Invitation:
    """Invite the email of ``data`` with its role (no higher than ``inviter_role``)."""
    validated = _validated(CreateInvitationSerializer, data)
    return services.invite(
        company=get_object_or_404(Company, pk=company_id),
        email=validated["email"],
        role=validated["role"],
        invited_by=invited_by,
        inviter_role=inviter_role,
    )


def accept_invitation(data: Mapping, *, user=None) -> Membership:
    """A signed-in ``user`` joins; anyone else (``user`` None) gets a new account with the
    username and password of ``data`` (Django's validators)."""
    token = _validated(AcceptInvitationSerializer, data)["token"]
    if user is not None:
        return services.accept_invitation(token=token, user=user)
    account = _validated(NewAccountSerializer, data)
    return services.accept_invitation(
        token=token, username=account["username"], password=account["password"]
    )


def sign_up(data: Mapping) -> Membership:
    validated = _validated(SignUpSerializer, data)
    return services.sign_up(
        username=validated["username"],
        email=validated["email"],
        password=validated["password"],
        company_name=validated["company_name"],
    )


def request_password_reset(data: Mapping) -> None:
    """Same outcome whether or not an account uses the email."""
    services.request_password_reset(_validated(PasswordResetRequestSerializer, data)["email"])


def reset_password(data: Mapping):
    """Set the new password of a reset link's user; returns that user."""
    validated = _validated(PasswordResetConfirmSerializer, data)
    user = services.user_of_reset_link(validated["uid"], validated["token"])
    check_password_strength(validated["new_password"], field="new_password", user=user)
    services.set_password(user, validated["new_password"])
    return user
