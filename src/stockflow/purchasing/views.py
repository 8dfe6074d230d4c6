"""Purchase order API: thin views over ``purchasing.services`` and ``selectors``.

Every member reads; admins and owners create, edit drafts, order, cancel and close; staff
also receive. Tenant-scoped by ``TenantViewSet``/``TenantAPIView``."""

from __future__ import annotations

from functools import partial

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from stockflow.api.idempotency import run_idempotent
from stockflow.api.schema import IDEMPOTENCY_PARAMETER
from stockflow.purchasing import selectors, sending, services
from stockflow.purchasing.filters import PurchaseOrderFilter
from stockflow.purchasing.models import PurchaseOrder
from stockflow.purchasing.serializers import (
    FromAlertsInput,
    FromAlertsResultSerializer,
    OrderActionInput,
    OrderReceiptInput,
    PurchaseOrderInput,
    PurchaseOrderSerializer,
    PurchaseOrderUpdateInput,
)
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantAPIView, TenantViewSet

STATUS_CONFLICT = OpenApiResponse(
    description="invalid_status: the order's status does not allow this (e.g. not a draft)."
)
ERRORS = {
    400: OpenApiResponse(description="validation_error: an error per field."),
    403: OpenApiResponse(description="permission_denied: the caller's role is too low."),
    404: OpenApiResponse(description="not_found: no such order in the caller's companies."),
    409: STATUS_CONFLICT,
}


def order_body(order: PurchaseOrder) -> dict:
    """The order as the API returns it, read again with its lines (three queries)."""
    order = selectors.orders_with_lines(
        PurchaseOrder.objects.filter(company_id=order.company_id, pk=order.pk)
    ).get()
    return PurchaseOrderSerializer(order).data


class PurchaseOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Purchase orders: ``draft → ordered → partially_received → received``, or
    ``cancelled`` (a draft or an ordered order, nothing received), or ``closed`` (partly
    received, the rest given up). Only drafts are edited."""

    queryset = PurchaseOrder.objects.all()
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    ordering_fields = ["id", "number", "expected_date", "created_at", "ordered_at", "status"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_roles = {"receipts": Role.STAFF}

    def refine_queryset(self, queryset):
        return selectors.orders_with_lines(queryset)

    @extend_schema(request=PurchaseOrderInput, responses={201: PurchaseOrderSerializer, **ERRORS})
    def create(self, request: Request) -> Response:
        serializer = PurchaseOrderInput(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self.tenant.require(data["warehouse_id"].company_id, self.required_role())
        order = services.create_order(
            supplier=data["supplier_id"],
            warehouse=data["warehouse_id"],
            lines=[_line(line) for line in data["lines"]],
            expected_date=data["expected_date"],
            notes=data["notes"],
            actor=request.user,
        )
        return Response(order_body(order), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PurchaseOrderUpdateInput, responses={200: PurchaseOrderSerializer, **ERRORS}
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        order = self.get_object()
        serializer = PurchaseOrderUpdateInput(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changes = {}
        if "supplier_id" in data:
            changes["supplier"] = _same_company(data["supplier_id"], order, "supplier_id")
        if "warehouse_id" in data:
            changes["warehouse"] = _same_company(data["warehouse_id"], order, "warehouse_id")
        if "expected_date" in data:
            changes["expected_date"] = data["expected_date"]
        if "notes" in data:
            changes["notes"] = data["notes"]
        if "lines" in data:
            changes["lines"] = [_line(line) for line in data["lines"]]
        order = services.update_order(order, **changes)
        return Response(order_body(order))

    @extend_schema(request=OrderActionInput, responses={200: PurchaseOrderSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def order(self, request: Request, pk: str) -> Response:
        """Place a draft: ``ordered``, expected date (if unset) today + the lead time;
        optionally emailed to the supplier."""
        order = self.get_object()
        serializer = OrderActionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.place_order(
            order,
            actor=request.user,
            send_to_supplier=serializer.validated_data["send_to_supplier"],
        )
        return Response(order_body(order))

    @extend_schema(request=None, responses={200: PurchaseOrderSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """A draft or an ordered order with nothing received: ``cancelled``."""
        return Response(order_body(services.cancel_order(self.get_object())))

    @extend_schema(request=None, responses={200: PurchaseOrderSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        """A partly received order: ``closed``, the rest given up."""
        return Response(order_body(services.close_order(self.get_object())))

    @extend_schema(
        request=OrderReceiptInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: PurchaseOrderSerializer,
            **ERRORS,
            409: OpenApiResponse(
                description="over_receipt: a line would exceed what remains (`error.lines`); "
                "invalid_status: the order is not ordered or partly received. Nothing written."
            ),
            422: OpenApiResponse(description="idempotency_key_reused."),
        },
    )
    @action(detail=True, methods=["post"])
    def receipts(self, request: Request, pk: str) -> Response:
        """Receive units against the order, line by line (partial quantities allowed), in
        one transaction: ledger ``receipt`` entries referring to the order."""
        order = self.get_object()
        serializer = OrderReceiptInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        lines = serializer.receipt_lines()

        def receive() -> Response:
            received = services.receive_order(
                order,
                lines,
                actor=request.user,
                note=serializer.validated_data["note"],
            )
            return Response(order_body(received), status=status.HTTP_201_CREATED)

        return run_idempotent(
            request,
            order.company_id,
            receive,
            prepare=services.prepare_receipt(order, lines),
        )

    @extend_schema(responses={(200, "text/html"): OpenApiTypes.STR, 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def document(self, request: Request, pk: str) -> HttpResponse:
        """The order as a printable HTML page (what the supplier's email shows)."""
        order = self.get_object()
        order = (
            selectors.orders_with_lines(
                PurchaseOrder.objects.filter(company_id=order.company_id, pk=order.pk)
            )
            .select_related("company")
            .get()
        )
        html = sending.render_order_html(selectors.order_document(order))
        return HttpResponse(html, content_type="text/html; charset=utf-8")


def _line(data: dict) -> services.LineInput:
    return services.LineInput(data["product_id"], data["quantity"], data["unit_cost"])


def _same_company(obj, order: PurchaseOrder, field: str):
    if obj.company_id != order.company_id:
        raise ValidationError({field: ["Must belong to the order's company."]})
    return obj


class PurchaseOrdersFromAlertsView(TenantAPIView):
    """Turn the company's current low-stock alerts (optionally filtered) into draft orders,
    one per (supplier, warehouse), with the suggested quantities and the supplier link's
    unit cost. Alerts without a supplier or with nothing to order are listed as skipped.
    Drafts count in ``on_draft``: calling it again creates nothing more."""

    write_role = Role.ADMIN

    @extend_schema(
        operation_id="purchase_orders_from_alerts",
        parameters=[
            OpenApiParameter("company_id", int, OpenApiParameter.PATH),
            IDEMPOTENCY_PARAMETER,
        ],
        request=FromAlertsInput,
        responses={
            201: FromAlertsResultSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: OpenApiResponse(description="No such company among the caller's companies."),
            422: OpenApiResponse(description="idempotency_key_reused."),
        },
        tags=["purchase-orders"],
    )
    def post(self, request: Request, company_id: str) -> Response:
        company = self.url_company("company_id")
        serializer = FromAlertsInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        return run_idempotent(
            request, company, partial(self._create, company, params, request.user)
        )

    def _create(self, company_id: int, params: dict, actor) -> Response:
        result = services.create_orders_from_report(
            company_id=company_id, params=params, actor=actor
        )
        orders = list(
            selectors.orders_with_lines(
                PurchaseOrder.objects.filter(
                    company_id=company_id, pk__in=[order.pk for order in result.orders]
                )
            ).order_by("id")
        )
        body = {
            "orders": PurchaseOrderSerializer(orders, many=True).data,
            "skipped": result.skipped,
        }
        return Response(body, status=status.HTTP_201_CREATED)
