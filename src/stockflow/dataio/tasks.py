"""The worker's import tasks. Each is idempotent: a job validated or applied already is left
as it is."""

from __future__ import annotations

from django_tasks import task

from stockflow.dataio import services


@task()
def validate_import(company_id: int, job_id: int) -> str | None:
    job = services.validate_job(company_id, job_id)
    return job.status if job else None


@task()
def apply_import(company_id: int, job_id: int) -> str | None:
    job = services.apply_job(company_id, job_id)
    return job.status if job else None
