from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from stockflow.catalog.models import PRICE_DECIMAL_PLACES, PRICE_MAX_DIGITS, Product, Warehouse
from stockflow.tenancy.keys import TenantForeignKey, TenantModel, TenantQuerySet
from stockflow.tenancy.models import Company


class LedgerReason(models.TextChoices):
    INITIAL = "initial", "Initial stock"
    RECEIPT = "receipt", "Receipt"
    SALE = "sale", "Sale"
    ADJUSTMENT = "adjustment", "Adjustment"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"


class AdjustmentReason(models.TextChoices):
    COUNT = "count", "Stock count"
    DAMAGE = "damage", "Damage"
    LOSS = "loss", "Loss"
    RETURN = "return", "Customer return"
    CORRECTION = "correction", "Correction"


class ReferenceType(models.TextChoices):
    PRODUCT = "product", "Product creation"
    SALE = "sale", "Sale"
    MOVEMENT = "movement", "Stock movement"
    PURCHASE_ORDER = "purchase_order", "Purchase order"
    IMPORT = "import", "Import"


class StockLevel(TenantModel):
    """Units of one product in one warehouse. Changed only by the services
    (``inventory.movements``, ``inventory.sales``).

    ``low_stock_threshold`` is the product's effective threshold (``catalog.thresholds``:
    its own, else its product type's; null: none), copied here so that the levels below it
    form a small partial index (``stock_level_low``) that the low-stock report starts from.
    ``inventory.levels`` keeps it equal to the effective one in the transaction that changes
    it: level creation, a product's threshold or type, a product type's threshold (called
    from ``movements.record_initial_stock`` and ``catalog_stock``). ``verify_stock`` checks
    it.

    The foreign keys carry no index of their own: the composite indexes below start with
    each of them, and every index costs on each (non-HOT) stock update.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    product = TenantForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock_levels", db_index=False
    )
    warehouse = TenantForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="stock_levels", db_index=False
    )
    quantity = models.BigIntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "product", "warehouse"],
                name="stock_level_one_per_product_warehouse",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_level_quantity_gte_0"),
        ]
        indexes = [
            models.Index(fields=["company", "warehouse"], name="stock_level_company_wh"),
            models.Index(fields=["warehouse", "product"], name="stock_level_wh_product"),
            # The levels below their threshold, and only them: a few percent of the table.
            models.Index(
                fields=["company", "warehouse", "product"],
                condition=Q(quantity__lt=F("low_stock_threshold")),
                name="stock_level_low",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.quantity}"


class AppendOnlyError(RuntimeError):
    pass


class AppendOnlyQuerySet(TenantQuerySet):
    """Refuses updates and deletes of the rows of an append-only table (``rows`` names them)."""

    rows = "Rows"

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.rows} are never updated.")

    def bulk_update(self, objs, fields, batch_size=None):
        # Refused before QuerySet.bulk_update opens its transaction, which would otherwise be
        # left broken by the refusal of update().
        raise AppendOnlyError(f"{self.rows} are never updated.")

    def delete(self):
        raise AppendOnlyError(f"{self.rows} are never deleted.")


class AppendOnlyModel:
    """Mixin of an append-only model: an instance is inserted once, never saved again nor
    deleted (its queryset, an ``AppendOnlyQuerySet``, refuses the bulk forms)."""

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(
                f"{self._meta.verbose_name_plural.capitalize()} are never updated."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.verbose_name_plural.capitalize()} are never deleted.")


class LedgerQuerySet(AppendOnlyQuerySet):
    rows = "Ledger entries"


class LedgerEntry(AppendOnlyModel, TenantModel):
    """One change to one stock level. Append-only: inserts only."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    stock_level = TenantForeignKey(
        StockLevel, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    product = TenantForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    change = models.BigIntegerField()
    quantity_after = models.BigIntegerField()
    reason = models.CharField(max_length=20, choices=LedgerReason.choices)
    adjustment_reason = models.CharField(
        max_length=20, choices=AdjustmentReason.choices, blank=True, default=""
    )
    reference_type = models.CharField(max_length=20, choices=ReferenceType.choices)
    reference_id = models.BigIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_after__gte=0), name="ledger_quantity_after_gte_0"
            ),
            models.CheckConstraint(condition=~Q(change=0), name="ledger_change_not_zero"),
        ]
        indexes = [
            models.Index(fields=["stock_level", "id"], name="ledger_level_id"),
            models.Index(fields=["company", "-id"], name="ledger_company_id"),
            models.Index(fields=["product", "-id"], name="ledger_product_id"),
            models.Index(fields=["warehouse", "-id"], name="ledger_warehouse_id"),
            # "Which entries did this sale / movement write?"
            models.Index(fields=["reference_type", "reference_id"], name="ledger_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.change:+d} → {self.quantity_after}"


class Sale(TenantModel):
    """One sale. The table takes an insert per sale: it keeps only the indexes something
    reads. The company and product foreign keys are served by the composite indexes that
    start with them; the warehouse keeps its own (a few values: inserts land on a few hot
    pages), so only one index takes inserts at scattered places."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    product = TenantForeignKey(
        Product, on_delete=models.PROTECT, related_name="sales", db_index=False
    )
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="sales")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(
        max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES
    )
    sold_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sale_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="sale_unit_price_gte_0"),
        ]
        indexes = [
            # The low-stock report sums the recent sales of one (product, warehouse) per
            # candidate: a range of this index, read from the index alone (quantity is in it,
            # and the company, which row-level security's policy checks on every row).
            models.Index(
                fields=["company", "product", "warehouse", "sold_at", "quantity"],
                name="sale_company_product_wh_sold",
            ),
            models.Index(fields=["company", "-id"], name="sale_company_id"),
        ]

    def __str__(self) -> str:
        return f"sale {self.quantity} × {self.product_id}@{self.warehouse_id}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ADJUSTMENT = "adjustment", "Adjustment"
    TRANSFER = "transfer", "Transfer"


class StockMovement(TenantModel):
    """The document behind a receipt, an adjustment or a transfer; ledger entries point to it.

    ``quantity`` is the units received or transferred (positive), or the signed change of an
    adjustment; a stock count also keeps the ``counted_quantity`` (its change may be 0 when the
    count matched, and then no ledger entry is written)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=MovementKind.choices)
    product = TenantForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    to_warehouse = TenantForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.BigIntegerField()
    counted_quantity = models.BigIntegerField(null=True, blank=True)
    adjustment_reason = models.CharField(
        max_length=20, choices=AdjustmentReason.choices, blank=True, default=""
    )
    external_reference = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["company", "-id"], name="movement_company_id"),
            models.Index(fields=["product", "-id"], name="movement_product_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=MovementKind.RECEIPT, quantity__gt=0, to_warehouse__isnull=True)
                    | Q(
                        kind=MovementKind.TRANSFER,
                        quantity__gt=0,
                        to_warehouse__isnull=False,
                    )
                    | Q(kind=MovementKind.ADJUSTMENT, to_warehouse__isnull=True)
                ),
                name="movement_kind_fields",
            ),
            models.CheckConstraint(
                condition=~Q(to_warehouse=models.F("warehouse")),
                name="movement_transfer_two_warehouses",
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__gte=0), name="movement_counted_quantity_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} × {self.product_id}"


class StockEventType(models.TextChoices):
    LOW = "stock.low", "Stock fell below its threshold"
    OUT = "stock.out", "Stock ran out"
    REPLENISHED = "stock.replenished", "Stock back at or above its threshold"
    # Recorded by purchasing (purchasing.events): about an order to a warehouse, not one level.
    PURCHASE_ORDER_ORDERED = "purchase_order.ordered", "Purchase order placed"
    PURCHASE_ORDER_RECEIVED = "purchase_order.received", "Goods received against a purchase order"
    # Recorded by the imports (dataio.events): a job's dry run or apply ended.
    IMPORT_FINISHED = "import.finished", "An import finished"


class StockEventQuerySet(AppendOnlyQuerySet):
    rows = "Stock events"


class StockEvent(AppendOnlyModel, TenantModel):
    """A stock level crossed its threshold or ran out: written by ``inventory.events`` in the
    transaction of the change, read by the notifications. Append-only, like the ledger.

    ``data`` is what a receiver gets: product, SKU, warehouse, quantity before and after, the
    threshold and, when the level is a low-stock alert, the alert's figures."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    type = models.CharField(max_length=40, choices=StockEventType.choices)
    # Null for the events of a purchase order (its warehouse is set, its lines are in data).
    stock_level = TenantForeignKey(
        StockLevel, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    product = TenantForeignKey(
        Product, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Null for the events of an import (about a file, not a place).
    warehouse = TenantForeignKey(
        Warehouse, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = StockEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["company", "-id"], name="stock_event_company_id"),
            models.Index(fields=["product", "-id"], name="stock_event_product_id"),
            models.Index(fields=["warehouse", "-id"], name="stock_event_warehouse_id"),
            models.Index(fields=["stock_level", "id"], name="stock_event_level_id"),
            # The notifications read the events of the last minutes not yet handed out.
            models.Index(fields=["created_at"], name="stock_event_created"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.product_id}@{self.warehouse_id}"
