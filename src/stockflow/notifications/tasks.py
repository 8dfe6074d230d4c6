"""The worker's tasks (Django's task API: ``django_tasks``). Each is idempotent: a task run
twice, or a lost one swept and enqueued again, does no harm. A delivery runs as its
company; the periodic jobs span companies on purpose and run as maintenance
(``tenancy.dbcontext``)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from django_tasks import task

from stockflow.notifications import emails, services
from stockflow.notifications.models import WebhookDelivery
from stockflow.tenancy.dbcontext import maintenance_task, tenant_task


def company_of_delivery(company_id: int, delivery_id: int) -> int | None:
    return (
        WebhookDelivery.objects.filter(company_id=company_id, pk=delivery_id)
        .values_list("company_id", flat=True)
        .first()
    )


@task()
@tenant_task(company_of_delivery)
def deliver_webhook(company_id: int, delivery_id: int) -> str | None:
    return services.attempt_delivery(company_id, delivery_id)


@task()
@maintenance_task
def sweep_webhook_deliveries() -> int:
    return services.sweep_deliveries()


@task()
@maintenance_task
def send_immediate_emails() -> int:
    return emails.send_immediate_alerts()


@task()
@maintenance_task
def send_daily_digests() -> int:
    return emails.send_daily_digests()


@task()
@maintenance_task
def purge_idempotency_keys() -> None:
    call_command("purge_idempotency_keys", verbosity=0)


@task()
@maintenance_task
def purge_old_records(task_days: int = 7) -> int:
    """Finished task rows older than ``task_days``, and the dispatcher's old markers."""
    from django_tasks_db.models import DBTaskResult

    purged = services.purge_dispatched_events()
    limit = timezone.now() - timedelta(days=task_days)
    finished = DBTaskResult.objects.filter(finished_at__lt=limit)
    return purged + finished.delete()[0]
