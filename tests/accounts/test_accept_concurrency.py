"""Two people with the same link at the same moment: one joins, the other is told the link
was used (PostgreSQL, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from stockflow.accounts import services
from stockflow.accounts.models import Invitation
from stockflow.tenancy.models import Membership
from tests.factories import make_invitation, make_tenant, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_an_invitation_is_accepted_once_under_concurrency():
    tenant = make_tenant()
    invitation = make_invitation(tenant.company, role="staff")
    users = [make_user() for _ in range(4)]
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []

    def accept(user) -> None:
        try:
            barrier.wait()
            services.accept_invitation(token=invitation.token, user=user)
            outcomes.append("joined")
        except Exception as exc:  # the refusal of the others
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["ValidationError"] * 3 + ["joined"]
    joined = Membership.objects.filter(company=tenant.company, user__in=users)
    assert joined.count() == 1
    assert Invitation.objects.get(pk=invitation.pk).accepted_by_id == joined.get().user_id
