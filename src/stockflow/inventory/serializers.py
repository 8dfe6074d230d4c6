"""Input validation and output shape of the inventory API.

Ids in request bodies resolve within the caller's companies (``TenantRelatedField``): the
product decides the tenant (unknown or foreign: 404; a member below ``staff``: 403); every
other id must belong to the product's company (otherwise 400 on the field). Output
serializers are plain ``Serializer`` classes with explicit fields: the stock operations are
hot paths.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from rest_framework import serializers

from stockflow.api.fields import MoneyField, deciding_id_field
from stockflow.api.limits import (
    ID_RANGE,
    MAX_OPERATION_QUANTITY,
    MAX_STOCK_QUANTITY,
    OPERATION_QUANTITY_RANGE,
)
from stockflow.catalog.models import PRICE_DECIMAL_PLACES, PRICE_MAX_DIGITS, Product, Warehouse
from stockflow.inventory.models import AdjustmentReason
from stockflow.inventory.operations import StockOperationResult, check_can_hold_stock
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
    return serializers.IntegerField(
        min_value=OPERATION_QUANTITY_RANGE[0], max_value=OPERATION_QUANTITY_RANGE[-1]
    )


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


def plain_sale_input(data) -> tuple[int, int, int] | None:
    """``(product_id, warehouse_id, quantity)`` of a sale body made of exactly these three
    fields, each a JSON integer within the bounds ``SaleInput`` applies (``ID_RANGE``,
    ``OPERATION_QUANTITY_RANGE``); ``None`` for any other body (a price or a date, a string
    id, a bound crossed...), which only ``SaleInput`` can validate."""
    if not isinstance(data, dict) or data.keys() != PLAIN_SALE_FIELDS:
        return None
    product_id, warehouse_id, quantity = data["product_id"], data["warehouse_id"], data["quantity"]
    # ``type() is int``: neither a bool (an int subclass) nor a Decimal or a string.
    if not (type(product_id) is type(warehouse_id) is type(quantity) is int):
        return None
    within_bounds = (
        product_id in ID_RANGE and warehouse_id in ID_RANGE and quantity in OPERATION_QUANTITY_RANGE
    )
    return (product_id, warehouse_id, quantity) if within_bounds else None


class SaleRequestBody:
    """The body of POST /api/sales as ``inventory.sales.sell`` takes it (a ``SaleRequest``):
    ``plain`` for its fast path, validated by ``SaleInput`` only when ``resolve`` is called."""

    __slots__ = ("_resolved", "context", "data", "plain")

    def __init__(self, data, context: Callable[[], dict]) -> None:
        self.data = data
        self.context = context  # the serializer context, built only to resolve
        self.plain = plain_sale_input(data)
        self._resolved: dict | None = None

    @property
    def resolved(self) -> bool:
        return self._resolved is not None

    def resolve(self) -> dict:
        if self._resolved is None:
            serializer = SaleInput(data=self.data, context=self.context())
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            self._resolved = {
                "product": data["product_id"],
                "warehouse": data["warehouse_id"],
                "quantity": data["quantity"],
                "unit_price": data.get("unit_price"),
                "sold_at": data.get("sold_at"),
            }
        return self._resolved

    def company_id(self) -> int:
        """The product's company (resolves the request)."""
        return self.resolve()["product"].company_id


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
    warehouse_id = serializers.IntegerField(
        allow_null=True, help_text="Null for an import's event."
    )
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


@cache
def _rendering(serializer_class: type[serializers.Serializer]) -> list[tuple]:
    """How ``serializer_class`` renders an object, read once from its own fields: for each
    readable field, its name, the attributes its value is read through (``source``), its
    ``to_representation`` and the type of value it represents unchanged. Only flat serializers of plain fields (this module's output
    serializers) qualify."""
    rendering = []
    for field in serializer_class()._readable_fields:
        if isinstance(field, serializers.BaseSerializer | serializers.SerializerMethodField):
            raise TypeError(f"{serializer_class.__name__}.{field.field_name} is not a plain field")
        # These fields represent a value of exactly this type as the value itself.
        unchanged = _UNCHANGED.get(type(field))
        # Datetime fields of one format represent a datetime alike: once per result is enough.
        same_as = None
        if type(field) is serializers.DateTimeField:
            same_as = (getattr(field, "format", None), getattr(field, "timezone", None))
        rendering.append(
            (field.field_name, field.source_attrs, field.to_representation, unchanged, same_as)
        )
    return rendering


_UNCHANGED = {serializers.IntegerField: int, serializers.CharField: str}


def render(
    serializer_class: type[serializers.Serializer], instance, memo: dict | None = None
) -> dict:
    """``serializer_class(instance).data``: the same keys, order, sources and formats, without
    DRF's generic per-field machinery (a stock operation's answer is a hot path)."""
    data = {}
    for name, source, to_representation, unchanged, same_as in _rendering(serializer_class):
        value = instance
        for attribute in source:
            value = getattr(value, attribute)
        if value is None or type(value) is unchanged:
            pass
        elif same_as is None or memo is None:
            value = to_representation(value)
        else:
            # An operation's times are often one and the same datetime.
            key = (same_as, value)
            if key not in memo:
                memo[key] = to_representation(value)
            value = memo[key]
        data[name] = value
    return data


def operation_result_data(result: StockOperationResult, serializer_class) -> dict:
    """The body of a stock operation's 201: ``serializer_class`` (``SaleSerializer``,
    ``MovementSerializer``) for its document, with its ledger entries
    (``LedgerEntrySerializer``)."""
    memo: dict = {}
    data = render(serializer_class, result.document, memo)
    data["ledger_entries"] = [
        render(LedgerEntrySerializer, entry, memo) for entry in result.ledger_entries
    ]
    return data


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
