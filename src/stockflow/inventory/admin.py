"""Inventory in the admin: read-only. Stock changes only through the inventory services
(``inventory.movements``, ``inventory.sales``, which write the ledger), and ledger entries
are never edited or deleted."""

from django.contrib import admin

from stockflow.inventory.models import LedgerEntry, Sale, StockLevel, StockMovement


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ["id", "company", "product", "warehouse", "quantity", "updated_at"]
    list_filter = ["company"]
    search_fields = ["product__sku", "product__name", "warehouse__code"]
    list_select_related = ["company", "product", "warehouse"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "company",
        "product",
        "warehouse",
        "change",
        "quantity_after",
        "reason",
        "adjustment_reason",
        "reference_type",
        "reference_id",
        "actor",
    ]
    list_filter = ["reason", "company"]
    search_fields = ["product__sku", "note"]
    list_select_related = ["company", "product", "warehouse", "actor"]
    date_hierarchy = "created_at"


@admin.register(Sale)
class SaleAdmin(ReadOnlyAdmin):
    list_display = ["id", "sold_at", "company", "product", "warehouse", "quantity", "unit_price"]
    list_filter = ["company"]
    search_fields = ["product__sku"]
    list_select_related = ["company", "product", "warehouse"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "kind",
        "company",
        "product",
        "warehouse",
        "to_warehouse",
        "quantity",
        "adjustment_reason",
    ]
    list_filter = ["kind", "company"]
    search_fields = ["product__sku", "external_reference", "note"]
    list_select_related = ["company", "product", "warehouse", "to_warehouse"]
