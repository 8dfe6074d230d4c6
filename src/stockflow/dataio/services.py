"""Import jobs: upload, validation (the dry run) and apply, all or nothing.

``create_job`` stores the file and enqueues its validation; ``validate_job`` (in the worker)
reads every row, records every error and the counts of rows to create, update and leave
unchanged; ``apply_job`` (in the worker) writes a valid job in one transaction: the rows are
checked again as the data is then, and one error writes nothing. Progress (``rows_done``) is
saved at least every 5 % of the rows or every 2 seconds.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import APIException

from stockflow import locking
from stockflow.api.errors import ApiError, Conflict
from stockflow.dataio.events import record_import_finished
from stockflow.dataio.importers import (
    IMPORTERS,
    UNCHANGED,
    Cells,
    Importer,
    RowError,
    RowErrors,
    RowRefused,
)
from stockflow.dataio.models import ImportJob, ImportStatus
from stockflow.dataio.reading import UnreadableFile, read_table

CHUNK_ROWS = 1000
#: what the validation writes to the job
VALIDATION_FIELDS = ["rows_done", "created_count", "updated_count", "unchanged_count"]
VALIDATION_FIELDS += ["errors", "error_count", "status", "finished_at"]
PROGRESS_SECONDS = 2.0


class _Rollback(Exception):
    """Leaves the apply transaction: an error was found, nothing is written."""


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def create_job(
    *, company_id: int, kind: str, content: bytes, file_name: str, dry_run: bool, actor
) -> tuple[ImportJob, bool]:
    """The job of this file (content hash) and kind for the company: the existing one if it
    was uploaded before (``False``), else a new one whose validation is enqueued (``True``).

    The file is read once here, so that an unreadable one (not UTF-8, no header, too many
    rows) is refused at once with the reason."""
    digest = content_hash(content)
    existing = ImportJob.objects.filter(company_id=company_id, kind=kind, content_hash=digest)
    job = existing.first()
    if job is not None:
        return job, False
    rows_total = _count_rows(content, file_name)
    job = ImportJob(
        company_id=company_id,
        kind=kind,
        file_name=file_name[:255],
        content_hash=digest,
        content=content,
        apply_when_valid=not dry_run,
        rows_total=rows_total,
        created_by=actor,
    )
    try:
        with transaction.atomic():
            job.save(force_insert=True)
    except IntegrityError:  # the same file, uploaded at the same time
        return existing.get(), False
    transaction.on_commit(lambda: _enqueue("validate_import", job))
    return job, True


def _count_rows(content: bytes, file_name: str) -> int:
    try:
        table = read_table(content, file_name)
        total = 0
        limit = settings.STOCKFLOW_IMPORT_MAX_ROWS
        for _ in table.rows:
            total += 1
            if total > limit:
                raise ApiError(
                    f"The file has more than {limit} rows; split it.", code="too_many_rows"
                )
    except UnreadableFile as error:
        raise ApiError(str(error), code="unreadable_file") from None
    return total


def _enqueue(task_name: str, job: ImportJob) -> None:
    from stockflow.dataio import tasks

    getattr(tasks, task_name).enqueue(job.company_id, job.pk)


class _Progress:
    """Saves ``rows_done`` every 5 % of the rows or every 2 seconds, whichever comes first."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.step = max(1, job.rows_total // 20)
        self.saved_rows = 0
        self.saved_at = time.monotonic()

    def advance(self, rows_done: int) -> None:
        now = time.monotonic()
        if rows_done - self.saved_rows >= self.step or now - self.saved_at >= PROGRESS_SECONDS:
            # Its own statement, outside the apply transaction on PostgreSQL it would be
            # invisible until commit: the apply path reports progress only before it starts.
            ImportJob.objects.filter(company_id=self.job.company_id, pk=self.job.pk).update(
                rows_done=rows_done
            )
            self.saved_rows, self.saved_at = rows_done, now


def _open(importer: Importer, job: ImportJob):
    """The header's errors and the job's rows, in chunks of (row number, cells)."""
    table = read_table(bytes(job.content), job.file_name)
    header_errors = importer.check_header(table.header)

    def chunks() -> Iterator[list[tuple[int, Cells]]]:
        chunk = []
        for number, row in table.rows:
            chunk.append((number, importer.cells(row)))
            if len(chunk) == CHUNK_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    return header_errors, chunks()


def _checked(importer: Importer, chunk: list[tuple[int, Cells]]):
    """(row number, plan or None, errors) of each row of a chunk."""
    importer.load([cells for _, cells in chunk])
    for number, cells in chunk:
        try:
            plan = importer.check(cells)
        except RowErrors as error:
            yield number, None, [RowError(number, *e) for e in error.errors]
        else:
            plan.row = number
            yield number, plan, []


def importer_for(job: ImportJob) -> Importer:
    actor = job.created_by
    return IMPORTERS[job.kind](job.company_id, actor=actor, import_id=job.pk)


def validate_job(company_id: int, job_id: int) -> ImportJob | None:
    """The dry run of the company's job: every error and the counts; then the apply, if the
    upload asked for it and there is no error."""
    job = ImportJob.objects.filter(
        company_id=company_id, pk=job_id, status=ImportStatus.VALIDATING
    ).first()
    if job is None:
        return None  # already validated: a task run twice does nothing
    importer = importer_for(job)
    header_errors, chunks = _open(importer, job)
    errors = [error.as_dict() for error in header_errors]
    counts = {"create": 0, "update": 0, "unchanged": 0}
    progress = _Progress(job)
    done = 0
    if not errors:
        for chunk in chunks:
            for _, plan, row_errors in _checked(importer, chunk):
                if plan is None:
                    errors.extend(error.as_dict() for error in row_errors)
                else:
                    counts[plan.outcome] += 1
            done += len(chunk)
            progress.advance(done)
    if job.rows_total == 0 and not errors:
        errors.append(RowError(2, "", "no_rows", "The file has a header but no rows.").as_dict())
    job.rows_done = done
    job.created_count, job.updated_count = counts["create"], counts["update"]
    job.unchanged_count = counts["unchanged"]
    job.errors = errors
    job.error_count = len(errors)
    job.status = ImportStatus.INVALID if errors else ImportStatus.VALID
    if errors:
        job.finished_at = timezone.now()
    applies = job.status == ImportStatus.VALID and job.apply_when_valid
    with transaction.atomic():
        # Not the file again (``content``): writing it back would cost its size twice over.
        job.save(update_fields=VALIDATION_FIELDS)
        if not applies:  # the dry run is what was asked: the import ends here
            record_import_finished(job)
    if applies:
        return apply_job(job.company_id, job.pk)
    return job


def start_apply(job: ImportJob) -> ImportJob:
    """Mark a valid job for applying and enqueue it; 409 unless the job is valid."""
    updated = ImportJob.objects.filter(
        company_id=job.company_id, pk=job.pk, status=ImportStatus.VALID
    ).update(status=ImportStatus.APPLYING, rows_done=0)
    if not updated:
        job.refresh_from_db()
        if job.status in (ImportStatus.APPLYING, ImportStatus.APPLIED):
            return job  # asked twice: the same answer
        raise Conflict(
            f"Only a valid import can be applied; this one is {job.status}.",
            code="import_not_valid",
        )
    transaction.on_commit(lambda: _enqueue("apply_import", job))
    job.refresh_from_db()
    return job


def apply_job(company_id: int, job_id: int) -> ImportJob | None:
    """Write every row of the company's valid job in one transaction, or nothing. The job
    row is locked for the whole transaction: a second run of the task waits, then finds it
    applied."""
    jobs = ImportJob.objects.filter(company_id=company_id, pk=job_id)
    jobs.filter(status=ImportStatus.VALID).update(status=ImportStatus.APPLYING)
    errors: list[dict] = []
    done = 0
    try:
        with transaction.atomic():
            job = locking.lock_for_update(ImportJob, job_id, company_id=company_id, no_key=True)
            if job is None or job.status != ImportStatus.APPLYING:
                return None
            importer = importer_for(job)
            importer.lock_company()
            if importer.locks_levels:
                _lock_levels_named(importer, job)
            header_errors, chunks = _open(importer, job)
            errors += [error.as_dict() for error in header_errors]
            if errors:
                raise _Rollback
            for chunk in chunks:
                for number, plan, row_errors in _checked(importer, chunk):
                    if plan is None:
                        errors.extend(error.as_dict() for error in row_errors)
                        raise _Rollback
                    try:
                        if plan.outcome != UNCHANGED or importer.writes_unchanged:
                            importer.write(plan)
                    except APIException as error:
                        errors.append(_refusal(number, error))
                        raise _Rollback from None
                try:
                    importer.flush()
                except RowRefused as refused:
                    errors.append(_refusal(refused.row, refused.error))
                    raise _Rollback from None
                done += len(chunk)
            jobs.update(
                status=ImportStatus.APPLIED,
                rows_done=done,
                finished_at=timezone.now(),
                content=b"",
            )
            record_import_finished(jobs.get())
    except _Rollback:
        with transaction.atomic():
            failed = jobs.filter(status=ImportStatus.APPLYING).update(
                status=ImportStatus.FAILED,
                errors=errors,
                error_count=len(errors),
                finished_at=timezone.now(),
            )
            if failed:
                record_import_finished(jobs.get())
    return jobs.get()


def _lock_levels_named(importer: Importer, job: ImportJob) -> None:
    """Lock the levels of every product the file names, in the order of ``locking``."""
    _, chunks = _open(importer, job)
    product_ids: set[int] = set()
    for chunk in chunks:
        skus = [cells.values.get("sku", "") for _, cells in chunk]
        product_ids.update(p.pk for p in importer.products_by_sku(skus).values())
    locking.lock_stock_levels_of_products(job.company_id, product_ids)


def _refusal(row: int, error: APIException) -> dict:
    """A service's refusal of a row, as a row error."""
    detail = error.detail
    if isinstance(detail, dict):
        column, messages = next(iter(detail.items()))
        message = " ".join(str(m) for m in (messages if isinstance(messages, list) else [messages]))
    else:
        column = ""
        message = " ".join(str(m) for m in detail) if isinstance(detail, list) else str(detail)
    code = getattr(error, "error_code", None) or "refused"
    return RowError(row, column, code, message).as_dict()
