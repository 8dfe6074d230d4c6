"""Every write of invitations, sign-up and passwords."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework.exceptions import ValidationError

from stockflow.accounts import emails, tasks
from stockflow.accounts.models import INVITATION_DAYS, Invitation, hash_invitation_token
from stockflow.api.errors import Conflict, ErrorCode
from stockflow.tenancy.models import ROLE_RANK, Company, Membership, Role

User = get_user_model()


def _new_link(invitation: Invitation, sent_at) -> None:
    """A new link as of ``sent_at`` (the old one, if any, stops working), valid for the
    full period; ``_email_link`` has the worker email it once the transaction commits."""
    invitation.sent_at = sent_at
    invitation.expires_at = sent_at + timedelta(days=INVITATION_DAYS)
    invitation.token_hash = hash_invitation_token(invitation.link_token())


def _email_link(invitation: Invitation) -> None:
    emails.enqueue_after_commit(
        tasks.send_invitation, invitation.company_id, invitation.pk, invitation.token_hash
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
    invitation = Invitation(
        company=company, email=email, role=role, invited_by=invited_by, created_at=now
    )
    _new_link(invitation, now)
    try:
        invitation.save(force_insert=True)
    except IntegrityError:  # the same address invited concurrently
        raise Conflict(
            "A pending invitation exists for this email; resend or revoke it.",
            code=ErrorCode.INVITATION_PENDING,
        ) from None
    _email_link(invitation)
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
    _new_link(locked, timezone.now())
    locked.save(update_fields=["token_hash", "sent_at", "expires_at"])
    _email_link(locked)
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
    """Have the worker email a reset link to each active account with this address
    (``emails.send_password_resets``). The request does the same whether or not there is
    one: it enqueues the task and looks nothing up."""
    emails.enqueue_after_commit(tasks.send_password_reset, email)


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
