"""The account emails: invitation and password reset.

Sent after the transaction commits, through Django's email backend (settings.EMAIL_*). With
``STOCKFLOW_EMAIL_IN_BACKGROUND`` on (the default outside tests) the message leaves from a
short-lived thread, so an answer takes the same time whether or not an email was sent: the
timing of a password reset tells nothing about which addresses have an account."""

from __future__ import annotations

import logging
import threading
from functools import partial
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.transaction import on_commit

logger = logging.getLogger("stockflow.accounts")


def _send(message: EmailMessage) -> None:
    try:
        message.send()
    except Exception:
        # The address is not logged: only that a message of this kind failed.
        logger.exception("Sending an account email failed (%s)", message.subject)


def _deliver(message: EmailMessage) -> None:
    if settings.STOCKFLOW_EMAIL_IN_BACKGROUND:
        threading.Thread(target=_send, args=(message,), daemon=True).start()
    else:
        _send(message)


def send_after_commit(*, to: str, subject: str, body: str) -> None:
    message = EmailMessage(subject=subject, body=body, to=[to])
    on_commit(partial(_deliver, message))


def link(path: str, **params: str) -> str:
    return f"{settings.STOCKFLOW_PUBLIC_URL.rstrip('/')}{path}?{urlencode(params)}"


def send_invitation(*, to: str, company_name: str, role: str, token: str, days: int) -> None:
    body = (
        f"You are invited to join {company_name} on StockFlow as {role}.\n\n"
        f"Accept the invitation: {link('/invitations/accept', token=token)}\n\n"
        "A program can accept it with POST /api/invitations/accept and the body "
        f'{{"token": "{token}"}} (with a username and password to create an account).\n'
        f"The link works once and expires in {days} days.\n"
    )
    send_after_commit(to=to, subject=f"Invitation to {company_name} on StockFlow", body=body)


def send_password_reset(*, to: str, username: str, uid: str, token: str) -> None:
    body = (
        f"Someone asked to reset the password of the StockFlow account {username}.\n\n"
        f"Choose a new password: {link('/password-reset/confirm', uid=uid, token=token)}\n\n"
        "A program can use POST /api/password-reset/confirm with the uid, the token and a "
        "new_password.\nIf you did not ask for this, ignore this message: the password is "
        "unchanged.\n"
    )
    send_after_commit(to=to, subject="Reset your StockFlow password", body=body)
