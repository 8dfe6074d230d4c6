"""Import and export: upload a file (a dry run first, or applied at once when valid), follow
its import while the worker checks and applies it, read its errors, apply a validated one;
download every export of the API.

Imports are the API's (``dataio``): staff import stock counts and sales, admins and owners
every kind, viewers none (their uploads and the import pages are 403). Every member may
download the exports, as the API allows."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from rest_framework.exceptions import APIException

from stockflow.inventory.models import LedgerReason
from stockflow.tenancy.models import Role
from stockflow.web import backend, selectors
from stockflow.web.forms import Form, Input
from stockflow.web.views.base import CompanyPage, page_number

RECENT_IMPORTS = 10
ERRORS_PAGE_SIZE = 25


class ImportExportView(CompanyPage):
    template_name = "web/imports.html"
    title = "Import and export"
    section = "data"
    write_role = Role.STAFF

    def kinds(self) -> list[tuple[str, str]]:
        return [(kind, label) for kind, label in backend.IMPORT_KINDS if self.may_import(kind)]

    def may_import(self, kind: str) -> bool:
        return self.can(backend.import_role(kind))

    def check_kind(self, kind: str) -> None:
        if not self.may_import(kind):
            raise PermissionDenied(f"Your role may not import {kind}.")

    def form(self, data=None) -> Form:
        inputs = [
            Input(
                "kind",
                "What the file holds",
                type="select",
                required=True,
                autofocus=True,
                choices=self.kinds(),
            ),
            Input(
                "file",
                "File",
                type="file",
                required=True,
                help="CSV (UTF-8, comma or semicolon) or XLSX; the first row names the columns.",
            ),
            Input(
                "dry_run",
                "Dry run: check every row and write nothing; apply afterwards",
                type="checkbox",
                value=True,
            ),
        ]
        return Form(inputs, data=data)

    def page(self, form: Form | None = None, status: int = 200):
        can_import = self.can(Role.STAFF)
        return self.render(
            {
                "form": (form or self.form()) if can_import else None,
                "jobs": list(selectors.import_jobs(self.company_id)[:RECENT_IMPORTS])
                if can_import
                else [],
                "columns": [
                    {"label": label, **backend.import_columns(kind)} for kind, label in self.kinds()
                ],
                "exports": backend.export_links(self.company_id),
                "warehouses": selectors.warehouses(self.company_id),
                "reasons": LedgerReason.choices,
            },
            status=status,
        )

    def get(self, request, company_id: int):
        return self.page()

    def post(self, request, company_id: int):
        form = self.form(request.POST)
        try:
            job, created = backend.upload_import(
                self.caller(), request.POST, request.FILES, allowed=self.check_kind
            )
        except APIException as exc:
            form.add_errors(exc)
            return self.page(form, status=400)
        if created:
            messages.success(request, f"{job.file_name} was uploaded: its rows are being checked.")
        else:
            messages.info(request, "This file was uploaded before: here is its import.")
        return redirect("web:import_job", company_id=self.company_id, job_id=job.pk)


class ImportJobView(CompanyPage):
    """One import: status and progress (polled by htmx while the worker runs it), counts,
    the errors (row, column, code, message) paged, and the apply button once valid."""

    template_name = "web/import_job.html"
    section = "data"
    read_role = Role.STAFF
    write_role = Role.STAFF

    def load(self, job_id: int) -> None:
        self.job = self.scoped_object(selectors.import_jobs(self.company_id), pk=job_id)
        self.title = f"Import #{self.job.pk}: {self.job.get_kind_display()}"

    def get(self, request, company_id: int, job_id: int):
        self.load(job_id)
        job = self.job
        context = {
            "job": job,
            "running": job.status in backend.IMPORT_RUNNING,
            "can_apply": job.status == backend.IMPORT_VALID
            and self.can(backend.import_role(job.kind)),
            "errors": selectors.page_of(job.errors, page_number(request), ERRORS_PAGE_SIZE),
        }
        if request.htmx:
            return self.render(context, template="web/_import_status.html")
        return self.render(context)

    def post(self, request, company_id: int, job_id: int):
        """Apply the validated import."""
        self.load(job_id)
        if not self.can(backend.import_role(self.job.kind)):
            raise PermissionDenied(f"Your role may not import {self.job.kind}.")
        try:
            backend.apply_import(self.job)
        except APIException as exc:
            messages.error(request, str(exc.detail))
        else:
            messages.success(request, "Applying: every row is written, or none.")
        return redirect("web:import_job", company_id=self.company_id, job_id=job_id)
