"""The worker's account tasks (Django's task API: ``django_tasks``): the account emails
(``emails``), enqueued when the request's transaction commits."""

from __future__ import annotations

from django_tasks import task

from stockflow.accounts import emails


@task()
def send_invitation(invitation_id: int, token_hash: str) -> bool:
    """Email an invitation's link; a task of a link replaced since sends nothing."""
    return emails.send_invitation(invitation_id, token_hash)


@task()
def send_password_reset(email: str) -> int:
    """Email a reset link to each account with this address (none when unknown)."""
    return emails.send_password_resets(email)
