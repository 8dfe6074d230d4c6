"""Back-office views of the catalog. Creating products and deleting products or warehouses
go through the API, whose services keep stock, ledger and bundle rules; here they are
read and edited in place."""

from django.contrib import admin

from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["id", "code", "name", "company", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "company__name"]
    raw_id_fields = ["company"]

    def has_delete_permission(self, request, obj=None):
        return False  # a warehouse with history is deactivated, never deleted


@admin.register(ProductType)
class ProductTypeAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "company", "low_stock_threshold"]
    search_fields = ["name", "company__name"]
    raw_id_fields = ["company"]


class ProductSupplierInline(admin.TabularInline):
    model = ProductSupplier
    fk_name = "product"
    extra = 0
    raw_id_fields = ["supplier", "company"]


class BundleComponentInline(admin.TabularInline):
    model = BundleComponent
    fk_name = "bundle"
    extra = 0
    # Bundle lines are checked for cycles by the API; shown here read-only.
    readonly_fields = ["component", "quantity", "company"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["id", "sku", "name", "company", "price", "is_bundle", "is_active"]
    list_filter = ["is_active", "is_bundle"]
    search_fields = ["sku", "name", "company__name"]
    raw_id_fields = ["company", "product_type"]
    readonly_fields = ["is_bundle", "created_at", "updated_at"]
    inlines = [ProductSupplierInline, BundleComponentInline]

    def has_add_permission(self, request):
        return False  # created through the API, with their initial stock and ledger entry

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "company", "contact_email", "phone"]
    search_fields = ["name", "contact_email", "company__name"]
    raw_id_fields = ["company"]


@admin.register(ProductSupplier)
class ProductSupplierAdmin(admin.ModelAdmin):
    list_display = ["id", "product", "supplier", "unit_cost", "lead_time_days", "is_primary"]
    list_filter = ["is_primary"]
    search_fields = ["product__sku", "supplier__name", "supplier_sku"]
    raw_id_fields = ["company", "product", "supplier"]
    list_select_related = ["product", "supplier"]
