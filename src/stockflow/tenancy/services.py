from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from stockflow import locking
from stockflow.api.errors import Conflict
from stockflow.tenancy.models import ApiToken, Company, Membership, Role
from stockflow.tenancy.tokens import generate_token

User = get_user_model()


@transaction.atomic
def create_company(*, name: str, owner, timezone: str = "UTC") -> Company:
    """Create a company; its creator becomes its owner."""
    company = Company.objects.create(name=name, timezone=timezone)
    Membership.objects.create(user=owner, company=company, role=Role.OWNER)
    return company


def issue_token(
    *, user, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create an API token. The clear token is returned once and never stored."""
    token, prefix, token_hash = generate_token()
    api_token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, token_hash=token_hash, expires_at=expires_at
    )
    return api_token, token


def revoke_token(api_token: ApiToken) -> None:
    if api_token.revoked_at is None:
        ApiToken.objects.filter(pk=api_token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )


def _ensure_an_owner_remains(company_id: int, leaving: Membership) -> None:
    others = Membership.objects.filter(company_id=company_id, role=Role.OWNER).exclude(
        pk=leaving.pk
    )
    if leaving.role == Role.OWNER and not others.exists():
        raise Conflict("A company must keep at least one owner.", code="last_owner")


@transaction.atomic
def add_member(*, company: Company, user, role: str) -> Membership:
    membership, created = Membership.objects.get_or_create(
        company=company, user=user, defaults={"role": role}
    )
    if not created:
        raise Conflict("This user is already a member of the company.", code="already_member")
    return membership


@transaction.atomic
def change_member_role(membership: Membership, role: str) -> Membership:
    locked = locking.lock_for_update(Membership, membership.pk, company_id=membership.company_id)
    if locked is None:
        raise Membership.DoesNotExist()
    # The company's owners too, so two demotions cannot both pass the last-owner check.
    locking.lock_members(locked.company_id, Role.OWNER)
    if role != Role.OWNER:
        _ensure_an_owner_remains(locked.company_id, locked)
    locked.role = role
    locked.save(update_fields=["role"])
    return locked


@transaction.atomic
def remove_member(membership: Membership) -> None:
    locked = locking.lock_for_update(Membership, membership.pk, company_id=membership.company_id)
    if locked is None:
        raise Membership.DoesNotExist()
    # The company's owners too, so two demotions cannot both pass the last-owner check.
    locking.lock_members(locked.company_id, Role.OWNER)
    _ensure_an_owner_remains(locked.company_id, locked)
    locked.delete()
