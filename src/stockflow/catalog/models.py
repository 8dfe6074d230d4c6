from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from stockflow.tenancy.keys import TenantForeignKey, TenantModel
from stockflow.tenancy.models import Company

# Money: up to 9,999,999,999.99 for prices; unit costs keep 4 decimals for fractional cents.
PRICE_MAX_DIGITS = 12
PRICE_DECIMAL_PLACES = 2
COST_MAX_DIGITS = 14
COST_DECIMAL_PLACES = 4
SKU_MAX_LENGTH = 64
# The observed lead time of a supplier link averages its last this many received orders, and
# replaces the configured one in the reorder arithmetic from MIN_OBSERVED_ORDERS orders on.
OBSERVED_ORDERS_WINDOW = 5
MIN_OBSERVED_ORDERS = 3


class Warehouse(TenantModel):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="warehouses")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=32)
    address = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="warehouse_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProductType(TenantModel):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="product_types")
    name = models.CharField(max_length=120)
    low_stock_threshold = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint("company", Lower("name"), name="product_type_name_unique_ci"),
            models.CheckConstraint(
                condition=Q(low_stock_threshold__gte=0), name="product_type_threshold_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(TenantModel):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    # Unique across the whole platform (a business rule of the product, not per company):
    # the database keeps that in SkuRegistration; here it is unique within the company.
    sku = models.CharField(max_length=SKU_MAX_LENGTH)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES)
    product_type = TenantForeignKey(
        ProductType, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    low_stock_threshold = models.PositiveIntegerField(null=True, blank=True)
    # A bundle has no stock of its own: it is made of components (BundleComponent).
    is_bundle = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["company", "is_active"], name="product_company_active")]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_gte_0"),
            models.CheckConstraint(
                condition=Q(low_stock_threshold__gte=0), name="product_threshold_gte_0"
            ),
            models.CheckConstraint(condition=~Q(sku=""), name="product_sku_not_blank"),
            models.UniqueConstraint(fields=["company", "sku"], name="product_sku_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class SkuRegistration(models.Model):
    """The platform's SKUs: one row per product, keyed by SKU, so that a SKU is taken once
    across every company although products are unique only within their company (and, on
    a sharded cluster, live on the shard of their company). A platform table (a reference
    table on Citus), outside row-level security: a company learns that a SKU is taken,
    never by whom.

    Written by the database in the product's own statement (triggers on the product table,
    created by the migration, on PostgreSQL and SQLite): every way a product is inserted,
    re-SKUed or deleted keeps it exact, and a SKU taken concurrently is refused by this
    table's primary key, which is what answers 409 ``sku_conflict``."""

    sku = models.CharField(max_length=SKU_MAX_LENGTH, primary_key=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    # No database foreign key: a reference table cannot point into a distributed one.
    product = models.OneToOneField(
        Product, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    def __str__(self) -> str:
        return self.sku


class Supplier(TenantModel):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="suppliers")
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ProductSupplier(TenantModel):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    product = TenantForeignKey(Product, on_delete=models.CASCADE, related_name="supplier_links")
    supplier = TenantForeignKey(Supplier, on_delete=models.CASCADE, related_name="product_links")
    supplier_sku = models.CharField(max_length=SKU_MAX_LENGTH, blank=True)
    unit_cost = models.DecimalField(
        max_digits=COST_MAX_DIGITS, decimal_places=COST_DECIMAL_PLACES, null=True, blank=True
    )
    lead_time_days = models.PositiveIntegerField(default=7)
    # Kept by purchasing when an order from this supplier is fully received: the average
    # days from ordered to received over the last received orders of the product (rounded
    # up), and how many orders that average covers (at most OBSERVED_ORDERS_WINDOW).
    observed_lead_time_days = models.PositiveIntegerField(null=True, blank=True, editable=False)
    observed_orders = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "product", "supplier"], name="product_supplier_unique"
            ),
            models.UniqueConstraint(
                fields=["company", "product"],
                condition=Q(is_primary=True),
                name="product_one_primary_supplier",
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="product_supplier_cost_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(lead_time_days__gte=0), name="product_supplier_lead_time_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} from {self.supplier_id}"


class BundleComponent(TenantModel):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    bundle = TenantForeignKey(Product, on_delete=models.CASCADE, related_name="components")
    component = TenantForeignKey(Product, on_delete=models.PROTECT, related_name="used_in")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "bundle", "component"], name="bundle_component_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bundle_component_qty_gt_0"),
            models.CheckConstraint(
                condition=~Q(bundle=F("component")), name="bundle_component_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bundle_id} ⊃ {self.quantity} × {self.component_id}"
