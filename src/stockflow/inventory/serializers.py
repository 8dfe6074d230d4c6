"""Input validation and output shape of the inventory API.

Ids in request bodies resolve within the caller's companies (``TenantRelatedField``): the
product decides the tenant (unknown or foreign: 404; a member below ``staff``: 403); every
other id must belong to the product's company (otherwise 400 on the field). Output
serializers are plain ``Serializer`` classes with explicit fields: the stock operations are
hot paths.
"""

from __future__ import annotations

from rest_framework import serializers

from stockflow.api.fields import MoneyField, deciding_id_field
from stockflow.catalog.models import PRICE_DECIMAL_PLACES, PRICE_MAX_DIGITS, Product, Warehouse
from stockflow.inventory.models import AdjustmentReason, LedgerReason, ReferenceType
from stockflow.inventory.services import (
    MAX_OPERATION_QUANTITY,
    MAX_STOCK_QUANTITY,
    PlainSale,
    StockOperationResult,
    check_can_hold_stock,
)
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantRelatedField

NOTE_MAX_LENGTH = 2000


def _product_field() -> TenantRelatedField:
    return deciding_id_field(Product.objects.all(), help_text="Product id.")


def _warehouse_field(
    help_text: str = "Warehouse id (same company as the product).",
) -> TenantRelatedField:
    return TenantRelatedField(
        queryset=Warehouse.objects.all(), role=Role.VIEWER, help_text=help_text
    )


def _quantity_field() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_OPERATION_QUANTITY)


def _note_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class StockOperationInput(serializers.Serializer):
    """Common to every stock operation: the product decides the company, and the caller needs
    the role the view requires (staff) in it."""

    product_id = _product_field()

    def validate_product_id(self, product: Product) -> Product:
        self.context["tenant"].require(product.company_id, self.context["required_role"])
        return product


class ReceiptInput(StockOperationInput):
    warehouse_id = _warehouse_field()
    quantity = _quantity_field()
    reference = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="External document (delivery note, purchase order number...).",
    )
    note = _note_field()

    def validate(self, attrs: dict) -> dict:
        check_can_hold_stock(attrs["product_id"], attrs["warehouse_id"])
        return attrs


class AdjustmentInput(StockOperationInput):
    warehouse_id = _warehouse_field()
    reason = serializers.ChoiceField(choices=AdjustmentReason.choices)
    change = serializers.IntegerField(
        required=False,
        min_value=-MAX_OPERATION_QUANTITY,
        max_value=MAX_OPERATION_QUANTITY,
        help_text="Signed number of units to add or take out (not 0).",
    )
    counted_quantity = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_STOCK_QUANTITY,
        help_text="Units counted: the stock is set to this quantity. A count equal to the "
        "current quantity is recorded as a movement with change 0 and no ledger entry.",
    )
    note = _note_field()

    def validate_change(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("Must not be 0.")
        return value

    def validate(self, attrs: dict) -> dict:
        if ("change" in attrs) == ("counted_quantity" in attrs):
            raise serializers.ValidationError("Give exactly one of change and counted_quantity.")
        check_can_hold_stock(attrs["product_id"], attrs["warehouse_id"])
        return attrs


class TransferInput(StockOperationInput):
    from_warehouse_id = _warehouse_field("Warehouse the units leave.")
    to_warehouse_id = _warehouse_field("Warehouse the units arrive in (same company).")
    quantity = _quantity_field()
    note = _note_field()

    def validate(self, attrs: dict) -> dict:
        product = attrs["product_id"]
        check_can_hold_stock(
            product, attrs["from_warehouse_id"], warehouse_field="from_warehouse_id"
        )
        check_can_hold_stock(product, attrs["to_warehouse_id"], warehouse_field="to_warehouse_id")
        if attrs["from_warehouse_id"].id == attrs["to_warehouse_id"].id:
            raise serializers.ValidationError(
                {"to_warehouse_id": ["Must differ from from_warehouse_id."]}
            )
        return attrs


class SaleInput(StockOperationInput):
    warehouse_id = _warehouse_field()
    quantity = _quantity_field()
    unit_price = MoneyField(
        PRICE_MAX_DIGITS,
        PRICE_DECIMAL_PLACES,
        required=False,
        help_text="Defaults to the product's price. Same forms as a product's price.",
    )
    sold_at = serializers.DateTimeField(
        required=False, help_text="Defaults to now; past dates allowed, future ones refused."
    )

    def validate(self, attrs: dict) -> dict:
        check_can_hold_stock(attrs["product_id"], attrs["warehouse_id"], sale=True)
        return attrs


PLAIN_SALE_FIELDS = frozenset({"product_id", "warehouse_id", "quantity"})
MAX_ID = 2**63 - 1


def plain_sale_input(data) -> tuple[int, int, int] | None:
    """``(product_id, warehouse_id, quantity)`` of a sale body made of exactly these three
    fields, each a JSON integer within bounds: what ``services.try_record_plain_sale`` takes.
    ``None`` for any other body (a price or a date, a string id, a bound crossed...), which
    ``SaleInput`` then validates."""
    if not isinstance(data, dict) or data.keys() != PLAIN_SALE_FIELDS:
        return None
    product_id, warehouse_id, quantity = data["product_id"], data["warehouse_id"], data["quantity"]
    # ``type() is int``: neither a bool (an int subclass) nor a Decimal or a string.
    if not (type(product_id) is type(warehouse_id) is type(quantity) is int):
        return None
    within_bounds = (
        0 < product_id <= MAX_ID
        and 0 < warehouse_id <= MAX_ID
        and 0 < quantity <= MAX_OPERATION_QUANTITY
    )
    return (product_id, warehouse_id, quantity) if within_bounds else None


# --- output ------------------------------------------------------------------------------


class LedgerEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    company_id = serializers.IntegerField()
    stock_level_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    warehouse_id = serializers.IntegerField()
    change = serializers.IntegerField()
    quantity_after = serializers.IntegerField()
    reason = serializers.CharField()
    adjustment_reason = serializers.CharField()
    reference_type = serializers.CharField()
    reference_id = serializers.IntegerField()
    actor_id = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class StockEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    company_id = serializers.IntegerField()
    product_id = serializers.IntegerField(
        allow_null=True, help_text="Null for a purchase order's events."
    )
    warehouse_id = serializers.IntegerField()
    data = serializers.JSONField(
        help_text=(
            "Stock events: product_id, sku, warehouse_id, stock_level_id, quantity_before, "
            "quantity_after, threshold; for a low or sold-out level with recent sales, the "
            "low-stock report's avg_daily_sales, days_until_stockout, "
            "suggested_reorder_quantity, window_days, cover_days, supplier_id. Purchase order "
            "events: purchase_order_id, number, status, supplier_id, warehouse_id, "
            "expected_date and the lines (quantities ordered, received, received_now)."
        )
    )
    created_at = serializers.DateTimeField()


class SaleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    company_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    warehouse_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(
        max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES
    )
    sold_at = serializers.DateTimeField()
    created_by_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class MovementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    company_id = serializers.IntegerField()
    kind = serializers.CharField()
    product_id = serializers.IntegerField()
    warehouse_id = serializers.IntegerField()
    to_warehouse_id = serializers.IntegerField(allow_null=True)
    quantity = serializers.IntegerField(
        help_text="Units received or transferred, or the signed change of an adjustment."
    )
    counted_quantity = serializers.IntegerField(allow_null=True)
    adjustment_reason = serializers.CharField()
    reference = serializers.CharField(source="external_reference")
    note = serializers.CharField()
    created_by_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class SaleResultSerializer(SaleSerializer):
    ledger_entries = LedgerEntrySerializer(many=True)


class MovementResultSerializer(MovementSerializer):
    ledger_entries = LedgerEntrySerializer(many=True)


def operation_result_data(result: StockOperationResult, serializer_class) -> dict:
    data = serializer_class(result.document).data
    data["ledger_entries"] = LedgerEntrySerializer(result.ledger_entries, many=True).data
    return data


# The formats of the fields above, for a body built from plain values.
_price_format = serializers.DecimalField(
    max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES
).to_representation
_datetime_format = serializers.DateTimeField().to_representation


def plain_sale_result_data(sale: PlainSale) -> dict:
    """The body of ``SaleResultSerializer`` (same keys, order and formats) for a sale
    recorded by ``services.try_record_plain_sale``, built without a serializer: the sale
    endpoint's hot path."""
    created_at = _datetime_format(sale.created_at)
    return {
        "id": sale.id,
        "company_id": sale.company_id,
        "product_id": sale.product_id,
        "warehouse_id": sale.warehouse_id,
        "quantity": sale.quantity,
        "unit_price": _price_format(sale.unit_price),
        "sold_at": _datetime_format(sale.sold_at),
        "created_by_id": sale.created_by_id,
        "created_at": created_at,
        "ledger_entries": [
            {
                "id": sale.ledger_entry_id,
                "company_id": sale.company_id,
                "stock_level_id": sale.stock_level_id,
                "product_id": sale.product_id,
                "warehouse_id": sale.warehouse_id,
                "change": -sale.quantity,
                "quantity_after": sale.quantity_after,
                "reason": LedgerReason.SALE.value,
                "adjustment_reason": "",
                "reference_type": ReferenceType.SALE.value,
                "reference_id": sale.id,
                "actor_id": sale.created_by_id,
                "note": "",
                "created_at": created_at,
            }
        ],
    }


class StockLevelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    company_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.name")
    warehouse_id = serializers.IntegerField()
    warehouse_code = serializers.CharField(source="warehouse.code")
    warehouse_name = serializers.CharField(source="warehouse.name")
    quantity = serializers.IntegerField()
    low_stock_threshold = serializers.IntegerField(
        source="effective_threshold",
        allow_null=True,
        help_text="The product's threshold, else its product type's.",
    )
    below_threshold = serializers.BooleanField()
    on_order = serializers.IntegerField(
        help_text="Units still to come on ordered or partly received purchase orders."
    )
    on_draft = serializers.IntegerField(help_text="Units on draft purchase orders.")
    next_expected_date = serializers.DateField(
        allow_null=True, help_text="Earliest expected date of a purchase order still to come."
    )
    updated_at = serializers.DateTimeField()


class WarehouseStockSerializer(serializers.Serializer):
    warehouse_id = serializers.IntegerField()
    warehouse_code = serializers.CharField()
    warehouse_name = serializers.CharField()
    warehouse_is_active = serializers.BooleanField()
    stock_level_id = serializers.IntegerField(allow_null=True)
    quantity = serializers.IntegerField(
        help_text="Units in stock; for a bundle, the bundles its components' stock can make."
    )
    on_order = serializers.IntegerField(
        help_text="Units still to come on ordered or partly received purchase orders."
    )
    on_draft = serializers.IntegerField(help_text="Units on draft purchase orders.")
    next_expected_date = serializers.DateField(
        allow_null=True, help_text="Earliest expected date of a purchase order still to come."
    )


class ProductStockSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    is_bundle = serializers.BooleanField()
    low_stock_threshold = serializers.IntegerField(allow_null=True)
    total_quantity = serializers.IntegerField()
    warehouses = WarehouseStockSerializer(many=True)
