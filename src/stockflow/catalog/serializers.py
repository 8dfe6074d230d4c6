"""Input validation and output shape of the catalog resources.

Ids in request bodies are resolved by ``TenantRelatedField`` within the caller's companies:
the id that decides the company of a new object answers 404 when it is unknown or foreign;
other ids are 400 on their field and must belong to the same company as the object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from stockflow.api.fields import MoneyField, company_id_field, deciding_id_field
from stockflow.api.serializers import FixedAfterCreation
from stockflow.catalog.models import (
    COST_DECIMAL_PLACES,
    COST_MAX_DIGITS,
    MIN_OBSERVED_ORDERS,
    OBSERVED_ORDERS_WINDOW,
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    SKU_MAX_LENGTH,
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.catalog.thresholds import product_threshold
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantRelatedField

# Stock is a whole number of units; anything above this is a typing error, not a quantity.
MAX_QUANTITY = 1_000_000_000
MAX_THRESHOLD = 1_000_000_000
MAX_COMPONENT_QUANTITY = 100_000
MAX_LEAD_TIME_DAYS = 3650
MAX_TEXT_LENGTH = 10_000

WAREHOUSE_CODE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._\-/]*\Z")
PHONE = re.compile(r"\A\+?[0-9 ().\-/]*[0-9](?:\s*(?:x|ext\.?)\s*[0-9]+)?\Z", re.IGNORECASE)


class SkuField(serializers.CharField):
    """A SKU: surrounding spaces stripped, printable characters only; case-sensitive (the
    unique index compares exactly)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", SKU_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value.isprintable():
            raise serializers.ValidationError("Only printable characters are allowed.")
        return value


class WarehouseSerializer(FixedAfterCreation, serializers.ModelSerializer):
    company_id = company_id_field()
    name = serializers.CharField(max_length=200)
    code = serializers.RegexField(
        WAREHOUSE_CODE,
        max_length=32,
        help_text="Unique within the company: letters, digits, '.', '_', '-', '/'.",
    )
    address = serializers.CharField(
        max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True, default=""
    )
    fixed_fields = ("company_id",)

    class Meta:
        model = Warehouse
        fields = ["id", "company_id", "name", "code", "address", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []  # (company, code) uniqueness: the database decides, answered as 409


class ProductTypeSerializer(FixedAfterCreation, serializers.ModelSerializer):
    company_id = company_id_field()
    name = serializers.CharField(max_length=120, help_text="Unique within the company, any case.")
    low_stock_threshold = serializers.IntegerField(
        min_value=0, max_value=MAX_THRESHOLD, required=False, allow_null=True, default=None
    )
    fixed_fields = ("company_id",)

    class Meta:
        model = ProductType
        fields = ["id", "company_id", "name", "low_stock_threshold", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []


class SupplierSerializer(FixedAfterCreation, serializers.ModelSerializer):
    company_id = company_id_field()
    name = serializers.CharField(max_length=200)
    contact_email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, default=""
    )
    phone = serializers.RegexField(
        PHONE, max_length=40, required=False, allow_blank=True, default=""
    )
    fixed_fields = ("company_id",)

    class Meta:
        model = Supplier
        fields = ["id", "company_id", "name", "contact_email", "phone", "created_at"]
        read_only_fields = ["id", "created_at"]


class StockEntrySerializer(serializers.Serializer):
    warehouse_id = serializers.IntegerField()
    quantity = serializers.IntegerField(required=False, help_text="Units held (products).")
    available = serializers.IntegerField(
        required=False, help_text="Units that can be assembled from the components (bundles)."
    )


class ComponentEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Id of the bundle component line.")
    component_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()


class ProductSerializer(FixedAfterCreation, serializers.ModelSerializer):
    """A product, with its stock per warehouse. For a bundle, ``stock`` gives the units that
    can be assembled in each warehouse from its components, listed in ``components``."""

    # Reads expect the queryset of inventory.selectors.products_for_display and, for
    # bundles, their "bundle_availability" in the context (one query per page).

    company_id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    sku = SkuField(
        help_text="Unique across the platform and case-sensitive (`ABC-1` and `abc-1` are two "
        "SKUs); surrounding spaces are removed."
    )
    description = serializers.CharField(
        max_length=MAX_TEXT_LENGTH, required=False, allow_blank=True, default=""
    )
    price = MoneyField(
        PRICE_MAX_DIGITS,
        PRICE_DECIMAL_PLACES,
        help_text=(
            f"Exact amount, not negative, at most {PRICE_MAX_DIGITS - PRICE_DECIMAL_PLACES} "
            f"digits before the point and {PRICE_DECIMAL_PLACES} after: a JSON number or a "
            'string of plain decimal digits ("19.99"); returned as a string ("19.90").'
        ),
    )
    product_type_id = TenantRelatedField(
        queryset=ProductType.objects.all(),
        source="product_type",
        required=False,
        allow_null=True,
        default=None,
    )
    low_stock_threshold = serializers.IntegerField(
        min_value=0,
        max_value=MAX_THRESHOLD,
        required=False,
        allow_null=True,
        default=None,
        help_text="Overrides the product type's threshold when set.",
    )
    effective_threshold = serializers.SerializerMethodField(
        help_text="The product's threshold, else its type's, else null."
    )
    is_bundle = serializers.BooleanField(required=False, default=False)
    is_active = serializers.BooleanField(required=False, default=True)
    stock = serializers.SerializerMethodField()
    components = serializers.SerializerMethodField()
    fixed_fields = ("company_id",)

    class Meta:
        model = Product
        fields = [
            "id",
            "company_id",
            "name",
            "sku",
            "description",
            "price",
            "product_type_id",
            "low_stock_threshold",
            "effective_threshold",
            "is_bundle",
            "is_active",
            "created_at",
            "updated_at",
            "stock",
            "components",
        ]
        read_only_fields = ["id", "company_id", "created_at", "updated_at"]
        validators = []  # SKU uniqueness: the database decides, answered as 409

    def get_effective_threshold(self, product: Product) -> int | None:
        return product_threshold(product)

    @extend_schema_field(StockEntrySerializer(many=True))
    def get_stock(self, product: Product) -> list[dict[str, int]]:
        if product.is_bundle:
            return self.context["bundle_availability"][product.pk]
        return [
            {"warehouse_id": level.warehouse_id, "quantity": level.quantity}
            for level in product.stock_levels.all()
        ]

    @extend_schema_field(ComponentEntrySerializer(many=True))
    def get_components(self, product: Product) -> list[dict]:
        if not product.is_bundle:
            return []
        return [
            {
                "id": line.pk,
                "component_id": line.component_id,
                "sku": line.component.sku,
                "name": line.component.name,
                "quantity": line.quantity,
            }
            for line in product.components.all()
        ]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        product_type = attrs.get("product_type")
        if (
            self.instance is not None
            and product_type is not None
            and product_type.company_id != self.instance.company_id
        ):
            raise serializers.ValidationError(
                {"product_type_id": ["Must belong to the same company as the product."]}
            )
        return attrs


class ProductCreateSerializer(ProductSerializer):
    """Body of POST /api/products (SPEC §3.1).

    ``warehouse_id`` decides the company: unknown, of another company or of a company where
    the caller is not an admin → 404. A bundle holds no stock: ``warehouse_id`` and
    ``initial_quantity`` are optional for it (``company_id`` then names the company) and
    ``initial_quantity`` must be 0 if given.
    """

    warehouse_id = deciding_id_field(
        Warehouse.objects.all(),
        role=None,  # the role the view requires: a create names a company it may write in
        source="warehouse",
        required=False,
        write_only=True,
        help_text="Warehouse of the initial stock; required unless is_bundle.",
    )
    initial_quantity = serializers.IntegerField(
        min_value=0,
        max_value=MAX_QUANTITY,
        required=False,
        write_only=True,
        help_text="Whole units in the warehouse at creation; required unless is_bundle.",
    )
    company_id = company_id_field(
        role=None,  # as warehouse_id
        required=False,
        help_text="The owning company; needed only for a bundle created without warehouse_id.",
    )

    is_active = serializers.BooleanField(read_only=True)

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "warehouse_id", "initial_quantity"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def to_internal_value(self, data):
        # Report every missing field at once, including those required only for products
        # that hold stock, instead of one round of errors after another.
        errors: dict = {}
        try:
            attrs = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = dict(exc.detail)
            attrs = None
        if isinstance(data, Mapping) and not self._is_bundle(data.get("is_bundle")):
            for name in ("warehouse_id", "initial_quantity"):
                if name not in errors and data.get(name) is None:
                    errors[name] = [self.fields[name].error_messages["required"]]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    @staticmethod
    def _is_bundle(raw) -> bool:
        try:
            return raw is not None and serializers.BooleanField().to_internal_value(raw)
        except serializers.ValidationError:
            return False

    def validate(self, attrs):
        attrs = super().validate(attrs)
        errors: dict[str, list[str]] = {}
        warehouse = attrs.get("warehouse")
        company = attrs.get("company")
        is_bundle = attrs.get("is_bundle", False)
        company_id = company.pk if company is not None else None
        if warehouse is not None:
            if company_id is not None and warehouse.company_id != company_id:
                errors["warehouse_id"] = ["Must belong to the company named by company_id."]
            elif not is_bundle and not warehouse.is_active:
                errors["warehouse_id"] = ["This warehouse is inactive."]
            company_id = warehouse.company_id
        if company_id is None:
            errors["company_id"] = ["Required when warehouse_id is not given."]
        if is_bundle and attrs.get("initial_quantity"):
            errors["initial_quantity"] = ["A bundle has no stock of its own: send 0 or omit it."]
        product_type = attrs.get("product_type")
        if product_type is not None and product_type.company_id != company_id:
            errors["product_type_id"] = ["Must belong to the same company as the product."]
        if errors:
            raise serializers.ValidationError(errors)
        attrs.pop("company", None)
        attrs["company_id"] = company_id
        if is_bundle:
            attrs.pop("warehouse", None)
            attrs.pop("initial_quantity", None)
        return attrs


class ProductSupplierSerializer(FixedAfterCreation, serializers.ModelSerializer):
    company_id = serializers.IntegerField(read_only=True)
    product_id = deciding_id_field(Product.objects.all(), source="product")
    supplier_id = TenantRelatedField(
        queryset=Supplier.objects.all(), source="supplier", role=Role.VIEWER
    )
    supplier_sku = serializers.CharField(
        max_length=SKU_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    unit_cost = MoneyField(
        COST_MAX_DIGITS,
        COST_DECIMAL_PLACES,
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            f"Exact amount, not negative, at most {COST_MAX_DIGITS - COST_DECIMAL_PLACES} "
            f"digits before the point and {COST_DECIMAL_PLACES} after: a JSON number or a "
            "string of plain decimal digits; returned as a string."
        ),
    )
    lead_time_days = serializers.IntegerField(
        min_value=0, max_value=MAX_LEAD_TIME_DAYS, required=False, default=7
    )
    is_primary = serializers.BooleanField(
        required=False,
        default=False,
        help_text="At most one primary supplier per product: setting it unsets the other.",
    )
    observed_lead_time_days = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=(
            "Average days from ordered to fully received over the last "
            f"{OBSERVED_ORDERS_WINDOW} orders received from this supplier (rounded up); "
            f"replaces lead_time_days in the reorder arithmetic from {MIN_OBSERVED_ORDERS} "
            "orders on. Null before the first."
        ),
    )
    observed_orders = serializers.IntegerField(
        read_only=True, help_text="How many received orders observed_lead_time_days averages."
    )
    fixed_fields = ("product_id", "supplier_id")

    class Meta:
        model = ProductSupplier
        fields = [
            "id",
            "company_id",
            "product_id",
            "supplier_id",
            "supplier_sku",
            "unit_cost",
            "lead_time_days",
            "observed_lead_time_days",
            "observed_orders",
            "is_primary",
            "created_at",
        ]
        read_only_fields = ["id", "company_id", "created_at"]
        validators = []

    def validate(self, attrs):
        attrs = super().validate(attrs)
        product, supplier = attrs.get("product"), attrs.get("supplier")
        if (
            product is not None
            and supplier is not None
            and supplier.company_id != product.company_id
        ):
            raise serializers.ValidationError(
                {"supplier_id": ["Must belong to the same company as the product."]}
            )
        return attrs


class BundleComponentSerializer(FixedAfterCreation, serializers.ModelSerializer):
    company_id = serializers.IntegerField(read_only=True)
    bundle_id = deciding_id_field(Product.objects.all(), source="bundle")
    component_id = TenantRelatedField(
        queryset=Product.objects.all(), source="component", role=Role.VIEWER
    )
    component_sku = serializers.CharField(source="component.sku", read_only=True)
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=MAX_COMPONENT_QUANTITY,
        help_text="Whole units of the component in one unit of the bundle.",
    )
    fixed_fields = ("bundle_id", "component_id")

    class Meta:
        model = BundleComponent
        fields = ["id", "company_id", "bundle_id", "component_id", "component_sku", "quantity"]
        read_only_fields = ["id", "company_id"]
        validators = []

    def validate(self, attrs):
        attrs = super().validate(attrs)
        bundle, component = attrs.get("bundle"), attrs.get("component")
        if bundle is not None and component is not None:
            if component.company_id != bundle.company_id:
                raise serializers.ValidationError(
                    {"component_id": ["Must belong to the same company as the bundle."]}
                )
            if component.pk == bundle.pk:
                raise serializers.ValidationError(
                    {"component_id": ["A bundle cannot contain itself."]}
                )
        return attrs
