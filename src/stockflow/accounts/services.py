"""Every write of invitations, sign-up and passwords."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework.exceptions import ValidationError

from stockflow.accounts import emails
from stockflow.accounts.models import Invitation
from stockflow.api.errors import Conflict, ErrorCode
from stockflow.tenancy.models import ROLE_RANK, Company, Membership, Role

User = get_user_model()

INVITATION_DAYS = 7
INVITATION_TOKEN_PREFIX = "inv_"


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _new_invitation_token() -> tuple[str, str]:
    token = INVITATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_invitation_token(token)


def _send_invitation(invitation: Invitation, token: str) -> None:
    emails.send_invitation(
        to=invitation.email,
        company_name=invitation.company.name,
        role=invitation.role,
        token=token,
        days=INVITATION_DAYS,
    )


@transaction.atomic
def invite(*, company: Company, email: str, role: str, invited_by, inviter_role: str) -> Invitation:
    """Invite an address to the company; the answer is the same whether or not the address
    has an account. A role above the inviter's own is refused (400 on ``role``)."""
    if ROLE_RANK[role] > ROLE_RANK[inviter_role]:
        raise ValidationError(
            {"role": [f"You cannot invite with a role above your own ({inviter_role})."]}
        )
    now = timezone.now()
    pending = Invitation.objects.select_for_update().filter(
        company_id=company.pk,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    )
    for old in pending:
        if old.expires_at > now:
            raise Conflict(
                "A pending invitation exists for this email; resend or revoke it.",
                code=ErrorCode.INVITATION_PENDING,
            )
        # An expired invitation makes way for the new one.
        old.revoked_at = now
        old.save(update_fields=["revoked_at"])
    token, token_hash = _new_invitation_token()
    try:
        invitation = Invitation.objects.create(
            company=company,
            email=email,
            role=role,
            token_hash=token_hash,
            invited_by=invited_by,
            created_at=now,
            sent_at=now,
            expires_at=now + timedelta(days=INVITATION_DAYS),
        )
    except IntegrityError:  # the same address invited concurrently
        raise Conflict(
            "A pending invitation exists for this email; resend or revoke it.",
            code=ErrorCode.INVITATION_PENDING,
        ) from None
    _send_invitation(invitation, token)
    return invitation


def _lock_pending(invitation: Invitation) -> Invitation:
    locked = (
        Invitation.objects.select_for_update()
        .select_related("company")
        .get(pk=invitation.pk, company_id=invitation.company_id)
    )
    if locked.accepted_at is not None:
        raise Conflict("This invitation was accepted already.", code=ErrorCode.INVITATION_USED)
    if locked.revoked_at is not None:
        raise Conflict("This invitation was revoked.", code=ErrorCode.INVITATION_REVOKED)
    return locked


@transaction.atomic
def resend_invitation(invitation: Invitation) -> Invitation:
    """A new link (the old one stops working) valid for another full period, emailed again."""
    locked = _lock_pending(invitation)
    token, locked.token_hash = _new_invitation_token()
    locked.sent_at = timezone.now()
    locked.expires_at = locked.sent_at + timedelta(days=INVITATION_DAYS)
    locked.save(update_fields=["token_hash", "sent_at", "expires_at"])
    _send_invitation(locked, token)
    return locked


@transaction.atomic
def revoke_invitation(invitation: Invitation) -> None:
    locked = _lock_pending(invitation)
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])


def _token_error(message: str) -> ValidationError:
    return ValidationError({"token": [message]})


@transaction.atomic
def accept_invitation(
    *, token: str, user=None, username: str = "", password: str = ""
) -> Membership:
    """Join the invitation's company: as ``user`` when given (the caller is signed in), else
    as a new user with ``username`` and ``password`` (already validated) and the invited
    email. The token works once."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("company")
        .filter(token_hash=hash_invitation_token(token))
        .first()
    )
    if invitation is None:
        raise _token_error("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise _token_error("This invitation was used already.")
    if invitation.revoked_at is not None:
        raise _token_error("This invitation was revoked.")
    if invitation.expires_at <= timezone.now():
        raise _token_error("This invitation has expired; ask for a new one.")
    if user is None:
        user = create_user(username=username, email=invitation.email, password=password)
    elif Membership.objects.filter(company_id=invitation.company_id, user=user).exists():
        raise Conflict("You are a member of this company already.", code=ErrorCode.ALREADY_MEMBER)
    membership = Membership.objects.create(
        company_id=invitation.company_id, user=user, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def create_user(*, username: str, email: str, password: str):
    """A new active user; a username taken meanwhile is a 400 on ``username``."""
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        raise ValidationError({"username": ["A user with that username already exists."]}) from None


@transaction.atomic
def sign_up(*, username: str, email: str, password: str, company_name: str) -> Membership:
    """A new user, a new company, and the user as its owner."""
    user = create_user(username=username, email=email, password=password)
    company = Company.objects.create(name=company_name)
    return Membership.objects.create(user=user, company=company, role=Role.OWNER)


def request_password_reset(email: str) -> None:
    """Email a reset link to each active account with this address. Nothing tells the caller
    whether there was one (the view answers the same; the email leaves after the answer)."""
    users = User.objects.filter(email__iexact=email, is_active=True)
    with transaction.atomic():
        for user in users:
            if not user.has_usable_password():
                continue
            emails.send_password_reset(
                to=user.email,
                username=user.get_username(),
                uid=urlsafe_base64_encode(force_bytes(user.pk)),
                token=default_token_generator.make_token(user),
            )


def user_of_reset_link(uid: str, token: str):
    """The user a reset link was made for, or a 400 on ``token``; Django's token generator
    makes the link invalid once the password changed, and after PASSWORD_RESET_TIMEOUT."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
        user = User.objects.get(pk=pk, is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise _token_error("This reset link is not valid or has expired.")
    return user


@transaction.atomic
def set_password(user, new_password: str) -> None:
    """Set an already validated password."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
