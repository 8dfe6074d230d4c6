"""Inventory API: stock operations (staff), stock levels, ledger, sales, movements (any member)."""

from __future__ import annotations

from functools import partial

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from stockflow.api.idempotency import run_idempotent
from stockflow.api.pagination import NewestFirstCursorPagination
from stockflow.api.schema import IDEMPOTENCY_PARAMETER
from stockflow.catalog.models import Product
from stockflow.inventory import commands, sales, selectors
from stockflow.inventory.filters import (
    LedgerEntryFilter,
    MovementFilter,
    SaleFilter,
    StockEventFilter,
    StockLevelFilter,
)
from stockflow.inventory.models import LedgerEntry, Sale, StockEvent, StockLevel, StockMovement
from stockflow.inventory.serializers import (
    AdjustmentInput,
    LedgerEntrySerializer,
    MovementResultSerializer,
    MovementSerializer,
    ProductStockSerializer,
    ReceiptInput,
    SaleInput,
    SaleRequestBody,
    SaleResultSerializer,
    SaleSerializer,
    StockEventSerializer,
    StockLevelSerializer,
    TransferInput,
    operation_result_data,
)
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantAPIView, TenantViewSet

OPERATION_ERRORS = {
    400: OpenApiResponse(description="validation_error: an error per field."),
    403: OpenApiResponse(description="permission_denied: the caller's role is below staff."),
    404: OpenApiResponse(description="not_found: no such product in the caller's companies."),
    409: OpenApiResponse(
        description="insufficient_stock: nothing was written; `error.lines` lists every short "
        "line with product_id, warehouse_id, requested and available."
    ),
    422: OpenApiResponse(
        description="idempotency_key_reused: the key was used with another request."
    ),
}


def operation_schema(request, response):
    return extend_schema(
        request=request,
        responses={201: response, **OPERATION_ERRORS},
        parameters=[IDEMPOTENCY_PARAMETER],
    )


class StockOperationView(TenantAPIView):
    """A POST that moves stock: validate, then run the service once per Idempotency-Key
    (the operation is a ``commands.StockCommand``, shared with the web app)."""

    write_role = Role.STAFF
    command: commands.StockCommand
    result_serializer: type = MovementSerializer

    def post(self, request):
        serializer = self.command.input_serializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return run_idempotent(
            request,
            data["product_id"].company_id,
            partial(self.perform, data),
            prepare=self.command.prepare(data),
        )

    def perform(self, data: dict) -> Response:
        result = self.command.run(data, self.request.user)
        body = operation_result_data(result, self.result_serializer)
        return Response(body, status=status.HTTP_201_CREATED)


@operation_schema(ReceiptInput, MovementResultSerializer)
class ReceiptView(StockOperationView):
    """Goods in: add units to a product's stock in a warehouse."""

    command = commands.RECEIVE


@operation_schema(AdjustmentInput, MovementResultSerializer)
class AdjustmentView(StockOperationView):
    """Correct a stock level by a signed change or to a counted quantity, with a reason."""

    command = commands.ADJUST


@operation_schema(TransferInput, MovementResultSerializer)
class TransferView(StockOperationView):
    """Move units of a product between two warehouses of its company."""

    command = commands.TRANSFER


class SaleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Sales, newest first. POST records a sale and takes its units out of stock (a bundle:
    every component), all or nothing; 409 ``insufficient_stock`` lists every short line."""

    queryset = Sale.objects.all()
    serializer_class = SaleSerializer
    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = SaleFilter
    write_role = Role.STAFF

    @operation_schema(SaleInput, SaleResultSerializer)
    def create(self, request):
        body = SaleRequestBody(request.data, self.get_serializer_context)
        # The company is needed (and the body resolved) only to claim an Idempotency-Key.
        return run_idempotent(request, body.company_id, partial(self._sell, body))

    def _sell(self, body: SaleRequestBody) -> Response:
        result = sales.sell(
            body, actor=self.request.user, scope=self.tenant, role=self.required_role()
        )
        return Response(
            operation_result_data(result, SaleSerializer), status=status.HTTP_201_CREATED
        )


class StockLevelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Stock levels of the caller's companies, with the effective low-stock threshold.
    ``below_threshold=true`` keeps those whose quantity is under it."""

    queryset = StockLevel.objects.all()
    serializer_class = StockLevelSerializer
    filterset_class = StockLevelFilter
    ordering_fields = ["id", "quantity", "updated_at"]
    ordering = ["id"]

    def refine_queryset(self, queryset):
        return selectors.stock_levels_with_threshold(queryset)


class LedgerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The append-only stock ledger, newest first (cursor pagination)."""

    queryset = LedgerEntry.objects.all()
    serializer_class = LedgerEntrySerializer
    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = LedgerEntryFilter


class StockEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Stock events of the caller's companies (a level crossing its low-stock threshold or
    running out), newest first (cursor pagination): what webhooks and emails deliver."""

    queryset = StockEvent.objects.all()
    serializer_class = StockEventSerializer
    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = StockEventFilter


class MovementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Receipts, adjustments and transfers, newest first (cursor pagination)."""

    queryset = StockMovement.objects.all()
    serializer_class = MovementSerializer
    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = MovementFilter


class ProductStockView(TenantAPIView):
    """One product's stock in every warehouse of its company (0 where it has none); for a
    bundle, how many bundles the components' stock can make in each warehouse."""

    @extend_schema(responses=ProductStockSerializer)
    def get(self, request, product_id: int):
        product = self.get_tenant_object(
            Product.objects.select_related("product_type"), pk=product_id
        )
        return Response(ProductStockSerializer(selectors.product_stock(product)).data)
