"""The worker's account tasks (Django's task API: ``django_tasks``): the account emails
(``emails``), enqueued when the request's transaction commits. They read platform tables
only (invitations, users, companies): an invitation's email runs as its company, a reset as
no company at all (``tenancy.dbcontext``)."""

from __future__ import annotations

from django_tasks import task

from stockflow.accounts import emails
from stockflow.accounts.models import Invitation
from stockflow.tenancy.dbcontext import tenant_task


def company_of_invitation(company_id: int, invitation_id: int, token_hash: str) -> int | None:
    return (
        Invitation.objects.filter(company_id=company_id, pk=invitation_id)
        .values_list("company_id", flat=True)
        .first()
    )


def no_company(email: str) -> None:
    return None


@task()
@tenant_task(company_of_invitation)
def send_invitation(company_id: int, invitation_id: int, token_hash: str) -> bool:
    """Email an invitation's link; a task of a link replaced since sends nothing."""
    return emails.send_invitation(company_id, invitation_id, token_hash)


@task()
@tenant_task(no_company)
def send_password_reset(email: str) -> int:
    """Email a reset link to each account with this address (none when unknown)."""
    return emails.send_password_resets(email)
