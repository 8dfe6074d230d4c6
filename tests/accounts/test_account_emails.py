"""The account emails leave from the worker: the request enqueues a task when its
transaction commits, the worker sends the email through a real SMTP server (aiosmtpd on
127.0.0.1). No link's token is in the queue, and a password reset for an unknown address does
exactly what one for a known address does."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from stockflow.accounts import tasks
from stockflow.accounts.models import Invitation
from tests.accounts.test_invitations import NEW_PASSWORD, accept, invitations, invite
from tests.factories import APIClient, make_user, written_sql
from tests.mailserver import text_of
from tests.notifications.receiver import run_worker_once

pytestmark = pytest.mark.django_db(transaction=True)


def queued(task) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=task.module_path).order_by("enqueued_at"))


def emailed_tokens(smtp) -> list[str]:
    return [re.search(r"inv_[\w-]+", text_of(message)).group(0) for _, message in smtp.messages]


def test_an_invitation_is_emailed_by_the_worker(tenant_a, smtp):
    response = invite(tenant_a)
    assert response.status_code == 201, response.content
    assert smtp.messages == []  # not from the request
    (task,) = queued(tasks.send_invitation)
    run_worker_once()
    assert [to for to, _ in smtp.messages] == [["new.person@example.com"]]
    (_, message) = smtp.messages[0]
    assert message["Subject"] == "Invitation to Acme on StockFlow"
    (token,) = emailed_tokens(smtp)
    # The link's token is neither queued nor stored in clear.
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert token not in str(task.args_kwargs)
    assert token not in str(list(Invitation.objects.values()))
    joined = accept(token, username="newperson", password=NEW_PASSWORD)
    assert joined.status_code == 201, joined.content
    run_worker_once()
    assert len(smtp.messages) == 1  # a task runs once; the accepted invitation is not resent


def test_a_resend_before_the_worker_runs_emails_only_the_new_link(tenant_a, smtp):
    invitation_id = invite(tenant_a).json()["id"]
    resent = tenant_a.owner.post(f"{invitations(tenant_a)}/{invitation_id}/resend")
    assert resent.status_code == 200, resent.content
    assert len(queued(tasks.send_invitation)) == 2
    run_worker_once()
    (token,) = emailed_tokens(smtp)
    assert accept(token, username="newperson", password=NEW_PASSWORD).status_code == 201


def test_a_revoked_invitation_is_not_emailed(tenant_a, smtp):
    invitation_id = invite(tenant_a).json()["id"]
    assert tenant_a.owner.delete(f"{invitations(tenant_a)}/{invitation_id}").status_code == 204
    run_worker_once()
    assert smtp.messages == []


def reset(email: str):
    return APIClient().post("/api/password-reset", {"email": email}, format="json")


def test_a_password_reset_is_emailed_by_the_worker(smtp):
    user = make_user("forgetful")
    assert reset(user.email.upper()).status_code == 202
    assert smtp.messages == []
    run_worker_once()
    ((to, message),) = smtp.messages
    assert to == [user.email] and message["Subject"] == "Reset your StockFlow password"
    uid, token = re.search(r"uid=([\w-]+)&token=([\w-]+)", text_of(message)).groups()
    assert token not in str([t.args_kwargs for t in queued(tasks.send_password_reset)])
    confirm = APIClient().post(
        "/api/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert confirm.status_code == 204, confirm.content


def normalized(statements: list[dict], email: str) -> list[str]:
    """The SQL of a request with its values (the address, ids, times) taken out."""
    logged = [written_sql(q["sql"]).replace(email, "") for q in statements]
    return [re.sub(r"'[^']*'|\b\d+\b", "?", sql) for sql in logged]


def test_a_reset_for_an_unknown_address_does_what_a_known_one_does(smtp):
    known = make_user("known").email
    answers, statements = [], []
    for email in (known, "ghost@example.com"):
        with CaptureQueriesContext(connection) as captured:
            answers.append(reset(email))
        statements.append(normalized(captured.captured_queries, email))
    # The same answer, from the same statements: one task enqueued, no account looked up.
    assert answers[0].status_code == answers[1].status_code == 202
    assert answers[0].content == answers[1].content
    assert statements[0] == statements[1]
    assert [sql.split()[0] for sql in statements[0]] == ["INSERT"]
    assert DBTaskResult._meta.db_table in statements[0][0]
    assert [t.args_kwargs["args"] for t in queued(tasks.send_password_reset)] == [
        [known],
        ["ghost@example.com"],
    ]
    run_worker_once()
    assert [to for to, _ in smtp.messages] == [[known]]


def test_a_mail_server_that_is_down_fails_the_task_not_the_request(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    user = make_user("unlucky")
    assert reset(user.email).status_code == 202
    run_worker_once()
    (task,) = queued(tasks.send_password_reset)
    assert task.status == "FAILED"
    assert "ConnectionRefusedError" in task.exception_class_path
