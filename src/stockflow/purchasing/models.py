"""Purchase orders (SPEC §4.3): tables and constraints; every action is in ``services``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from stockflow.catalog.models import (
    COST_DECIMAL_PLACES,
    COST_MAX_DIGITS,
    Product,
    Supplier,
    Warehouse,
)
from stockflow.tenancy.keys import TenantForeignKey, TenantModel
from stockflow.tenancy.models import Company

NUMBER_PREFIX = "PO-"
NUMBER_DIGITS = 6


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ORDERED = "ordered", "Ordered"
    PARTIALLY_RECEIVED = "partially_received", "Partially received"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"
    CLOSED = "closed", "Closed"


#: orders whose remaining units are on their way (``on_order``)
OPEN_STATUSES = (PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.PARTIALLY_RECEIVED)


def format_number(sequence: int) -> str:
    return f"{NUMBER_PREFIX}{sequence:0{NUMBER_DIGITS}d}"


class PurchaseOrderCounter(TenantModel):
    """The last purchase order number given in a company: one row per company, taken with
    an upsert that locks it until commit (``locking.next_purchase_order_number``)."""

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_number = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.company_id}: {format_number(self.last_number)}"


class PurchaseOrder(TenantModel):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=20)
    supplier = TenantForeignKey(Supplier, on_delete=models.PROTECT, related_name="+")
    warehouse = TenantForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT
    )
    expected_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    ordered_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="purchase_order_number"),
        ]
        indexes = [
            models.Index(fields=["company", "status", "expected_date"], name="po_company_status"),
            models.Index(fields=["company", "warehouse"], name="po_company_warehouse"),
            models.Index(fields=["company", "supplier", "status"], name="po_company_supplier"),
        ]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(TenantModel):
    """``quantity_ordered`` units of a product (not a bundle) at ``unit_cost`` each (null:
    not priced yet; an order is priced in full before it is placed)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    order = TenantForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    product = TenantForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity_ordered = models.BigIntegerField()
    quantity_received = models.BigIntegerField(default=0)
    unit_cost = models.DecimalField(
        max_digits=COST_MAX_DIGITS, decimal_places=COST_DECIMAL_PLACES, null=True, blank=True
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "order", "product"], name="po_line_one_per_product"
            ),
            models.CheckConstraint(condition=Q(quantity_ordered__gt=0), name="po_line_qty_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_received__gte=0)
                & Q(quantity_received__lte=F("quantity_ordered")),
                name="po_line_received_within_ordered",
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="po_line_cost_gte_0"),
        ]
        indexes = [
            # What is on order for one product (inventory.incoming): one probe per row.
            models.Index(fields=["company", "product", "order"], name="po_line_product"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity_ordered} × {self.product_id}"
