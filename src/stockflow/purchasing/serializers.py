"""Input validation and output shape of purchase orders.

Ids in bodies resolve within the caller's companies (``TenantRelatedField``): the warehouse
of a new order decides its company (unknown or foreign: 404); the supplier and the products
are 400 on their field when unknown or foreign.
"""

from __future__ import annotations

from rest_framework import serializers

from stockflow.alerts.serializers import (
    DEFAULT_COVER_DAYS,
    DEFAULT_WINDOW_DAYS,
    MAX_COVER_DAYS,
    MAX_WINDOW_DAYS,
)
from stockflow.api.fields import MoneyField, deciding_id_field
from stockflow.api.limits import BIGINT_MAX
from stockflow.catalog.models import (
    COST_DECIMAL_PLACES,
    COST_MAX_DIGITS,
    Product,
    Supplier,
    Warehouse,
)
from stockflow.purchasing import selectors
from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderStatus
from stockflow.purchasing.services import LineInput, ReceiptLine
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantRelatedField

MAX_ORDER_QUANTITY = 1_000_000_000
MAX_LINES = 500
MAX_NOTES_LENGTH = 10_000


def unit_cost_field(**kwargs) -> MoneyField:
    return MoneyField(
        COST_MAX_DIGITS,
        COST_DECIMAL_PLACES,
        help_text=(
            f"Exact amount, not negative, at most {COST_DECIMAL_PLACES} decimals; a JSON "
            "number or a string of plain decimal digits; returned as a string."
        ),
        **kwargs,
    )


class PurchaseOrderLineInput(serializers.Serializer):
    product_id = TenantRelatedField(queryset=Product.objects.all(), role=Role.VIEWER)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_ORDER_QUANTITY)
    unit_cost = unit_cost_field(
        required=False,
        allow_null=True,
        default=None,
    )

    def to_line(self, data: dict) -> LineInput:
        return LineInput(data["product_id"], data["quantity"], data["unit_cost"])


class PurchaseOrderInput(serializers.Serializer):
    """A new draft: the warehouse decides its company."""

    warehouse_id = deciding_id_field(Warehouse.objects.all())
    supplier_id = TenantRelatedField(queryset=Supplier.objects.all(), role=Role.VIEWER)
    expected_date = serializers.DateField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_NOTES_LENGTH
    )
    lines = PurchaseOrderLineInput(many=True, required=False, default=list, max_length=MAX_LINES)

    def validate(self, attrs):
        if attrs["supplier_id"].company_id != attrs["warehouse_id"].company_id:
            raise serializers.ValidationError(
                {"supplier_id": ["Must belong to the same company as the warehouse."]}
            )
        return attrs


class PurchaseOrderUpdateInput(serializers.Serializer):
    """A draft's changes; ``lines``, when given, replace all its lines."""

    warehouse_id = TenantRelatedField(
        queryset=Warehouse.objects.all(), role=Role.VIEWER, required=False
    )
    supplier_id = TenantRelatedField(
        queryset=Supplier.objects.all(), role=Role.VIEWER, required=False
    )
    expected_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTES_LENGTH)
    lines = PurchaseOrderLineInput(many=True, required=False, max_length=MAX_LINES)


class OrderActionInput(serializers.Serializer):
    send_to_supplier = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Email the order (HTML, CSV attached) to the supplier's contact after it "
        "is placed; the order's sent_at records when it left.",
    )


class OrderReceiptLineInput(serializers.Serializer):
    line_id = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_ORDER_QUANTITY)


class OrderReceiptInput(serializers.Serializer):
    lines = OrderReceiptLineInput(many=True, min_length=1, max_length=MAX_LINES)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def receipt_lines(self) -> list[ReceiptLine]:
        return [
            ReceiptLine(line["line_id"], line["quantity"]) for line in self.validated_data["lines"]
        ]


class OrderSupplierSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    contact_email = serializers.CharField()


class OrderWarehouseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class PurchaseOrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.name")
    quantity_ordered = serializers.IntegerField()
    quantity_received = serializers.IntegerField()
    quantity_remaining = serializers.SerializerMethodField()
    unit_cost = serializers.DecimalField(
        COST_MAX_DIGITS, COST_DECIMAL_PLACES, allow_null=True, help_text="Null: not priced yet."
    )
    line_total = serializers.SerializerMethodField()

    def get_quantity_remaining(self, line) -> int:
        return line.quantity_ordered - line.quantity_received

    def get_line_total(self, line) -> str | None:
        total = selectors.line_total(line)
        return None if total is None else str(total)


class PurchaseOrderSerializer(serializers.ModelSerializer):
    company_id = serializers.IntegerField()
    supplier = OrderSupplierSerializer()
    warehouse = OrderWarehouseSerializer()
    status = serializers.ChoiceField(choices=PurchaseOrderStatus.choices)
    created_by_id = serializers.IntegerField(allow_null=True)
    ordered_by_id = serializers.IntegerField(allow_null=True)
    lines = PurchaseOrderLineSerializer(many=True)
    total = serializers.SerializerMethodField(
        help_text="Sum of the line totals, exact; null while a line has no unit cost."
    )
    overdue = serializers.SerializerMethodField(
        help_text="Still expected (ordered or partly received) and past its expected date."
    )

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "company_id",
            "number",
            "status",
            "supplier",
            "warehouse",
            "expected_date",
            "notes",
            "created_by_id",
            "ordered_by_id",
            "created_at",
            "updated_at",
            "ordered_at",
            "sent_at",
            "received_at",
            "cancelled_at",
            "closed_at",
            "total",
            "overdue",
            "lines",
        ]
        read_only_fields = fields

    def get_total(self, order) -> str | None:
        total = selectors.order_total(list(order.lines.all()))
        return None if total is None else str(total)

    def get_overdue(self, order) -> bool:
        return selectors.is_overdue(order)


class SkippedAlertSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    warehouse_id = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=["no_supplier", "nothing_to_order"])


class FromAlertsResultSerializer(serializers.Serializer):
    orders = PurchaseOrderSerializer(many=True)
    skipped = SkippedAlertSerializer(many=True)


class FromAlertsInput(serializers.Serializer):
    """The low-stock report's filters (see its query parameters)."""

    days = serializers.IntegerField(
        min_value=1, max_value=MAX_WINDOW_DAYS, default=DEFAULT_WINDOW_DAYS
    )
    cover_days = serializers.IntegerField(
        min_value=0, max_value=MAX_COVER_DAYS, default=DEFAULT_COVER_DAYS
    )
    warehouse_id = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX, required=False)
    product_type_id = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX, required=False)
    product_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=BIGINT_MAX),
        required=False,
        allow_empty=False,
        max_length=MAX_LINES,
        help_text="Only these products.",
    )
