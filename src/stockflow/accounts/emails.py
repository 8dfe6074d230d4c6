"""The account emails: invitation and password reset. The worker sends them (``accounts.tasks``)
through Django's email backend, configured as the notifications' are (settings.EMAIL_*).

A request only enqueues an email's task, once its transaction commits, and a password reset
enqueues it whatever the address: the worker looks the accounts up. So neither the answer nor
its timing tells which addresses have an account, and a slow or unreachable mail server slows
no request. No link's token is queued or stored in clear: the worker makes an invitation's
again from the row (``Invitation.link_token``), and a reset's with Django's token generator."""

from __future__ import annotations

import logging
from functools import partial
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db.transaction import on_commit
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from stockflow.accounts.models import INVITATION_DAYS, Invitation, hash_invitation_token

logger = logging.getLogger("stockflow.accounts")


def enqueue_after_commit(task, *args) -> None:
    """Enqueue an email's task once the current transaction commits (at once outside one)."""
    on_commit(partial(task.enqueue, *args))


def link(path: str, **params: str) -> str:
    return f"{settings.STOCKFLOW_PUBLIC_URL.rstrip('/')}{path}?{urlencode(params)}"


def send_invitation(company_id: int, invitation_id: int, token_hash: str) -> bool:
    """Email the invitation's link. False when there is nothing to send: the invitation is no
    longer pending, or it was resent since (its own task sends the new link)."""
    invitation = (
        Invitation.objects.select_related("company")
        .filter(company_id=company_id, pk=invitation_id, token_hash=token_hash)
        .first()
    )
    if invitation is None or invitation.status != "pending":
        return False
    token = invitation.link_token()
    if hash_invitation_token(token) != token_hash:
        # SECRET_KEY changed since the invitation was made: its link cannot be made again.
        logger.error("Invitation %s cannot be sent (SECRET_KEY changed): resend it", invitation_id)
        return False
    company, role = invitation.company.name, invitation.role
    body = (
        f"You are invited to join {company} on StockFlow as {role}.\n\n"
        f"Accept the invitation: {link('/invitations/accept', token=token)}\n\n"
        "A program can accept it with POST /api/invitations/accept and the body "
        f'{{"token": "{token}"}} (with a username and password to create an account).\n'
        f"The link works once and expires in {INVITATION_DAYS} days.\n"
    )
    subject = f"Invitation to {company} on StockFlow"
    EmailMessage(subject=subject, body=body, to=[invitation.email]).send()
    return True


def send_password_resets(email: str) -> int:
    """A reset link to each active account with this address and a password; returns how
    many were sent (none for an unknown address)."""
    sent = 0
    for user in get_user_model().objects.filter(email__iexact=email, is_active=True):
        if not user.has_usable_password():
            continue
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        body = (
            "Someone asked to reset the password of the StockFlow account "
            f"{user.get_username()}.\n\n"
            f"Choose a new password: {link('/password-reset/confirm', uid=uid, token=token)}\n\n"
            "A program can use POST /api/password-reset/confirm with the uid, the token and a "
            "new_password.\nIf you did not ask for this, ignore this message: the password is "
            "unchanged.\n"
        )
        EmailMessage(subject="Reset your StockFlow password", body=body, to=[user.email]).send()
        sent += 1
    return sent
