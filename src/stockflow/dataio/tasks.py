"""The worker's import tasks. Each is idempotent: a job validated or applied already is left
as it is. Each runs as its job's company (``tenancy.dbcontext.tenant_task``)."""

from __future__ import annotations

from django_tasks import task

from stockflow.dataio import services
from stockflow.dataio.models import ImportJob
from stockflow.tenancy.dbcontext import tenant_task


def company_of_job(company_id: int, job_id: int) -> int | None:
    return (
        ImportJob.objects.filter(company_id=company_id, pk=job_id)
        .values_list("company_id", flat=True)
        .first()
    )


@task()
@tenant_task(company_of_job)
def validate_import(company_id: int, job_id: int) -> str | None:
    job = services.validate_job(company_id, job_id)
    return job.status if job else None


@task()
@tenant_task(company_of_job)
def apply_import(company_id: int, job_id: int) -> str | None:
    job = services.apply_job(company_id, job_id)
    return job.status if job else None
