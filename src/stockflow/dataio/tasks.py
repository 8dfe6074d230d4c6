"""The worker's import tasks. Each is idempotent: a job validated or applied already is left
as it is. Each runs as its job's company (``tenancy.dbcontext.tenant_task``)."""

from __future__ import annotations

from django_tasks import task

from stockflow.dataio import services
from stockflow.dataio.models import ImportJob
from stockflow.tenancy.dbcontext import tenant_task


def company_of_job(job_id: int) -> int | None:
    return ImportJob.objects.filter(pk=job_id).values_list("company_id", flat=True).first()


@task()
@tenant_task(company_of_job)
def validate_import(job_id: int) -> str | None:
    job = services.validate_job(job_id)
    return job.status if job else None


@task()
@tenant_task(company_of_job)
def apply_import(job_id: int) -> str | None:
    job = services.apply_job(job_id)
    return job.status if job else None
