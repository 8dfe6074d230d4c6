"""Every write to stock: explicit transactions, locks, ledger entries."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from stockflow.catalog.models import Product, Warehouse
from stockflow.inventory.models import LedgerEntry, LedgerReason, ReferenceType, StockLevel


@transaction.atomic
def record_initial_stock(
    *, product: Product, warehouse: Warehouse, quantity: int, actor=None, note: str = ""
) -> StockLevel:
    """Create the stock level of a new product in a warehouse, with its ``initial`` ledger
    entry when the quantity is not zero. The product is new, so nothing else can hold a
    lock on this level."""
    now = timezone.now()
    level = StockLevel.objects.create(
        company_id=product.company_id,
        product=product,
        warehouse=warehouse,
        quantity=quantity,
        updated_at=now,
    )
    if quantity:
        LedgerEntry.objects.create(
            company_id=product.company_id,
            stock_level=level,
            product=product,
            warehouse=warehouse,
            change=quantity,
            quantity_after=quantity,
            reason=LedgerReason.INITIAL,
            reference_type=ReferenceType.PRODUCT,
            reference_id=product.pk,
            actor=actor,
            note=note,
            created_at=now,
        )
    return level
