from __future__ import annotations

import django_filters
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from stockflow.alerts.serializers import LowStockQuerySerializer
from stockflow.api.errors import ApiError
from stockflow.api.filters import BooleanFilter, DateTimeFilter, IdFilter
from stockflow.api.limits import BIGINT_MAX
from stockflow.api.pagination import PageNumberPagination
from stockflow.dataio import exports, services
from stockflow.dataio.importers import IMPORTERS
from stockflow.dataio.models import ImportJob
from stockflow.dataio.serializers import (
    ImportErrorSerializer,
    ImportJobSerializer,
    ImportUploadSerializer,
)
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantAPIView

NOT_FOUND = OpenApiResponse(description="No such import among the caller's companies.")
FORBIDDEN = OpenApiResponse(description="The caller's role may not import this kind.")
ERRORS_CSV = OpenApiParameter(
    "format",
    str,
    enum=["json", "csv"],
    description="csv: every error as a CSV file (row, column, code, message).",
)


class FormatParameterNegotiation(DefaultContentNegotiation):
    """JSON whatever ``?format=`` says: the views that take it read it themselves (a file
    format, not a renderer)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ImportJobMixin:
    """An import job of the caller's companies; staff and above see them (viewers import
    nothing), and a job's kind decides who may apply it."""

    read_role = Role.STAFF
    write_role = Role.STAFF

    def job(self, pk: str) -> ImportJob:
        return self.get_tenant_object(ImportJob.objects.defer("content"), pk=int(pk))


class ImportUploadView(ImportJobMixin, TenantAPIView):
    """Upload a file to import (multipart). The rows are validated in the background (a dry
    run: every error, and the counts of rows to create, update and leave unchanged); read the
    job for its progress. With ``dry_run=false`` a valid file is applied at once. The same
    file (content hash) and kind uploaded again by the company answers the existing job.

    Kinds and their columns: ``products`` (sku, name, price, description, product_type,
    low_stock_threshold, ``stock:<warehouse code>`` opening stock of new products),
    ``suppliers`` (name, contact_email, phone), ``product_suppliers`` (sku, supplier (name or
    email), supplier_sku, unit_cost, lead_time_days, is_primary), ``stock_counts`` (sku,
    warehouse, counted_quantity) and ``sales`` (sku, warehouse, quantity, unit_price,
    sold_at: history, taking no stock). Staff may import stock counts and sales; admins
    everything."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="import_upload",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            201: ImportJobSerializer,
            200: OpenApiResponse(ImportJobSerializer, description="This file was uploaded before."),
            400: OpenApiResponse(
                description="Invalid form or unreadable file (the reason says where)."
            ),
            403: FORBIDDEN,
            404: OpenApiResponse(description="No such company among the caller's companies."),
            413: OpenApiResponse(description="The file is larger than the import limit."),
        },
        tags=["imports"],
    )
    def post(self, request: Request) -> Response:
        upload = ImportUploadSerializer(data=request.data, context=self.get_serializer_context())
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        company_id = data["company"].pk
        self.tenant.require(company_id, IMPORTERS[data["kind"]].min_role)
        job, created = services.create_job(
            company_id=company_id,
            kind=data["kind"],
            content=data["file"].read(),
            file_name=data["file"].name or "",
            dry_run=data["dry_run"],
            actor=request.user,
        )
        return Response(
            ImportJobSerializer(job).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ImportJobView(ImportJobMixin, TenantAPIView):
    """An import: its status, progress (rows done of the total), counts and first errors."""

    @extend_schema(
        operation_id="import_retrieve",
        responses={200: ImportJobSerializer, 404: NOT_FOUND},
        tags=["imports"],
    )
    def get(self, request: Request, pk: str) -> Response:
        return Response(ImportJobSerializer(self.job(pk)).data)


class ImportApplyView(ImportJobMixin, TenantAPIView):
    """Apply a validated import, all or nothing, in the background: one transaction; a row
    refused then (the data changed since the dry run) writes nothing and fails the job."""

    @extend_schema(
        operation_id="import_apply",
        request=None,
        responses={
            202: ImportJobSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(description="The import is not valid (yet)."),
        },
        tags=["imports"],
    )
    def post(self, request: Request, pk: str) -> Response:
        job = self.job(pk)
        self.tenant.require(job.company_id, IMPORTERS[job.kind].min_role)
        job = services.start_apply(job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportErrorsView(ImportJobMixin, TenantAPIView):
    """Every error of an import, paged; ``?format=csv`` gives them all as a CSV file."""

    content_negotiation_class = FormatParameterNegotiation
    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="import_errors",
        parameters=[ERRORS_CSV],
        responses={
            (200, "application/json"): ImportErrorSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            404: NOT_FOUND,
        },
        tags=["imports"],
    )
    def get(self, request: Request, pk: str):
        job = self.job(pk)
        if request.query_params.get("format") == "csv":
            header = ["row", "column", "code", "message"]
            rows = ([e[name] for name in header] for e in job.errors)
            return exports.csv_response(f"import-{job.pk}-errors.csv", header, rows)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(job.errors, request, view=self)
        return paginator.get_paginated_response(ImportErrorSerializer(page, many=True).data)


EXPORT_FORMAT = OpenApiParameter(
    "format",
    str,
    enum=["csv", "xlsx"],
    description=(
        "csv (default): streamed, any size; xlsx: up to the XLSX row limit "
        "(400 `too_many_rows` beyond it: use CSV)."
    ),
)


def _filter_schema(query_filter) -> dict:
    """The schema of one query filter, as the JSON lists document it."""
    if isinstance(query_filter, IdFilter):
        return {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}
    if isinstance(query_filter, BooleanFilter):
        return {"type": "boolean"}
    if isinstance(query_filter, django_filters.ChoiceFilter):
        return {"type": "string", "enum": [value for value, _ in query_filter.extra["choices"]]}
    if isinstance(query_filter, django_filters.MultipleChoiceFilter):
        choices = [value for value, _ in query_filter.extra["choices"]]
        return {"type": "array", "items": {"type": "string", "enum": choices}}
    if isinstance(query_filter, django_filters.DateFilter):
        return {"type": "string", "format": "date"}
    if isinstance(query_filter, DateTimeFilter):
        return {"type": "string", "format": "date-time"}
    if isinstance(query_filter, django_filters.NumberFilter):
        return {"type": "number"}
    return {"type": "string"}


def filterset_parameters(filterset_class) -> list[OpenApiParameter]:
    """The query parameters of a FilterSet but ``company_id`` (the URL names the company)."""
    return [
        OpenApiParameter(
            name, _filter_schema(query_filter), description=str(query_filter.label or "")
        )
        for name, query_filter in filterset_class.base_filters.items()
        if name != "company_id"
    ]


EXPORT_RESPONSES = {
    (200, "text/csv"): OpenApiTypes.STR,
    (200, exports.XLSX_TYPE): OpenApiTypes.BINARY,
    400: OpenApiResponse(description="A filter is invalid, or too many rows for XLSX."),
    404: OpenApiResponse(description="No such company among the caller's companies."),
}


class ExportView(TenantAPIView):
    """Export the company's rows as a CSV (streamed) or XLSX file, with the filters of the
    matching JSON list. Any member of the company may export what they may read."""

    content_negotiation_class = FormatParameterNegotiation
    read_role = Role.VIEWER
    #: name → (FilterSet, the rows before any filter, how to build the export)
    exports: dict = {}
    name = ""

    def build(self, company_id: int, request: Request) -> exports.Export:
        filterset_class, rows, build = self.exports[self.name]
        # As the JSON list: its annotations first (some filters read them), then the filters.
        queryset = rows().filter(company_id=company_id)
        filterset = filterset_class(request.query_params, queryset=queryset, request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return build(company_id, filterset.qs)

    def get(self, request: Request, company_id: str):
        company = self.url_company("company_id")
        file_format = request.query_params.get("format") or "csv"
        if file_format not in ("csv", "xlsx"):
            raise ValidationError({"format": ["Must be csv or xlsx."]})
        export = self.build(company, request)
        file_name = f"{self.name}.{file_format}"
        if file_format == "csv":
            return exports.csv_response(file_name, export.header, export.rows)
        limit = settings.STOCKFLOW_EXPORT_XLSX_MAX_ROWS
        if export.count() > limit:
            raise ApiError(
                f"More than {limit} rows: too many for an XLSX file; export as CSV (format=csv).",
                code="too_many_rows",
            )
        return exports.xlsx_response(file_name, export.header, export.rows)


def export_view(name: str, filterset_class, rows, build, description: str) -> type:
    """The export view of ``name``: the queryset ``rows()`` returns, in the company,
    filtered by ``filterset_class``, written by ``build``."""

    def get(self, request: Request, company_id: str):
        return ExportView.get(self, request, company_id)

    get = extend_schema(
        operation_id=f"export_{name}",
        description=description,
        parameters=[
            OpenApiParameter("company_id", int, OpenApiParameter.PATH),
            EXPORT_FORMAT,
            *filterset_parameters(filterset_class),
        ],
        responses=EXPORT_RESPONSES,
        tags=["exports"],
    )(get)
    return type(
        f"{name.title().replace('_', '')}ExportView",
        (ExportView,),
        {
            "name": name,
            "exports": {name: (filterset_class, rows, build)},
            "__doc__": description,
            "get": get,
        },
    )


class LowStockExportView(ExportView):
    """Export the low-stock report (the alerts and their forecast, as GET …/alerts/low-stock
    computes them) as CSV or XLSX."""

    name = "low_stock"

    def build(self, company_id: int, request: Request) -> exports.Export:
        query = LowStockQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        return exports.low_stock(
            company_id,
            days=params["days"],
            cover_days=params["cover_days"],
            warehouse_id=params.get("warehouse_id"),
        )

    @extend_schema(
        operation_id="export_low_stock",
        parameters=[
            OpenApiParameter("company_id", int, OpenApiParameter.PATH),
            EXPORT_FORMAT,
            LowStockQuerySerializer,
        ],
        responses=EXPORT_RESPONSES,
        tags=["exports"],
    )
    def get(self, request: Request, company_id: str):
        return super().get(request, company_id)
