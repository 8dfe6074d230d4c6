"""The event of an import (SPEC §4.2): ``import.finished`` when a job's dry run ends (valid
or not) or its apply ends (applied or failed). Recorded here, in the transaction that sets the
job's final status, in the event table of the inventory layer (read by the webhooks like the
stock events)."""

from __future__ import annotations

from stockflow.dataio.models import ImportJob
from stockflow.inventory.models import StockEvent, StockEventType

FINISHED = StockEventType.IMPORT_FINISHED


def record_import_finished(job: ImportJob) -> StockEvent:
    return StockEvent.objects.create(
        company_id=job.company_id,
        type=FINISHED,
        data={
            "import_id": job.pk,
            "kind": job.kind,
            "status": job.status,
            "rows_total": job.rows_total,
            "rows_done": job.rows_done,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "errors": job.error_count,
        },
    )
