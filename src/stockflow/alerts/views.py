from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from stockflow.alerts.report import low_stock_report
from stockflow.alerts.serializers import LowStockQuerySerializer, LowStockReportSerializer
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantAPIView


class LowStockAlertsView(TenantAPIView):
    """Products running low in each warehouse of the company, most urgent first.

    An alert is a (product, warehouse) of an active product (not a bundle) in an active
    warehouse, whose stock is below its threshold (the product's own, else its type's) and
    which sold there in the window; bundle sales count as sales of their components. Any
    member of the company may read it."""

    read_role = Role.VIEWER

    @extend_schema(
        operation_id="low_stock_alerts",
        parameters=[
            OpenApiParameter("company_id", int, OpenApiParameter.PATH),
            LowStockQuerySerializer,
        ],
        responses={
            200: LowStockReportSerializer,
            400: OpenApiResponse(description="A query parameter is invalid (see error.fields)."),
            404: OpenApiResponse(description="No such company among the caller's companies."),
        },
        tags=["alerts"],
    )
    def get(self, request: Request, company_id: str) -> Response:
        company = self.url_company("company_id")
        query = LowStockQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        as_of = timezone.now()
        page = low_stock_report(
            company_id=company,
            now=as_of,
            days=params["days"],
            cover_days=params["cover_days"],
            warehouse_id=params.get("warehouse_id"),
            product_type_id=params.get("product_type_id"),
            limit=params.get("limit"),
            offset=params["offset"],
        )
        return Response(
            {
                "alerts": page.rows,
                "total_alerts": page.total,
                "window_days": params["days"],
                "cover_days": params["cover_days"],
                "as_of": as_of.isoformat().replace("+00:00", "Z"),
                "limit": params.get("limit"),
                "offset": params["offset"],
            }
        )
