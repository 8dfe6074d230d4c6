"""Stock movements: receipts, adjustments, transfers, and the initial stock of a new product.

Each writes its ``StockMovement`` (the initial stock: its ``initial`` ledger entry, which
refers to the product) and one ledger entry per level changed, in one transaction, under the
locks of ``locking``; see ``operations`` for what every stock operation shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from stockflow import locking
from stockflow.api.limits import MAX_OPERATION_QUANTITY, MAX_STOCK_QUANTITY
from stockflow.bulkinsert import insert_rows
from stockflow.catalog.models import Product, Warehouse
from stockflow.inventory.events import LevelMove, record_crossings
from stockflow.inventory.levels import lock_effective_thresholds
from stockflow.inventory.models import (
    AdjustmentReason,
    LedgerEntry,
    LedgerReason,
    MovementKind,
    ReferenceType,
    StockLevel,
    StockMovement,
)
from stockflow.inventory.operations import (
    LevelChange,
    StockOperationResult,
    add_missing_levels,
    apply_changes,
    check_can_hold_stock,
    check_quantity,
    run_locked,
)
from stockflow.locking import LevelKey, LockedLevel


def _record_movement(
    changes: list[LevelChange],
    levels: dict[LevelKey, LockedLevel],
    *,
    product: Product,
    note: str,
    actor,
    adjustment_reason: str = "",
    **movement_fields,
) -> StockOperationResult:
    """Write the movement document of a receipt, adjustment or transfer, then the ledger
    entries of its changes, each pointing to it. The levels are already locked."""
    movement = StockMovement.objects.create(
        company_id=product.company_id,
        product=product,
        adjustment_reason=adjustment_reason,
        note=note,
        created_by=actor,
        **movement_fields,
    )
    entries = apply_changes(
        changes,
        company_id=product.company_id,
        reference_type=ReferenceType.MOVEMENT,
        reference_id=movement.id,
        actor=actor,
        note=note,
        adjustment_reason=adjustment_reason,
        levels=levels,
    )
    return StockOperationResult(movement, entries)


def receive_stock(
    *,
    product: Product,
    warehouse: Warehouse,
    quantity: int,
    actor=None,
    external_reference: str = "",
    note: str = "",
) -> StockOperationResult:
    """Goods in: add ``quantity`` units to the product's stock in the warehouse.

    Locks the stock level (see ``operations.add_missing_levels`` for a missing one), adds the
    quantity, and writes a ``receipt`` movement and its ledger entry."""
    check_can_hold_stock(product, warehouse)
    check_quantity(quantity)
    key = (product.id, warehouse.id)
    changes = [LevelChange(key, quantity, LedgerReason.RECEIPT)]

    def write(levels: dict[LevelKey, LockedLevel]) -> StockOperationResult:
        return _record_movement(
            changes,
            levels,
            kind=MovementKind.RECEIPT,
            product=product,
            warehouse=warehouse,
            quantity=quantity,
            external_reference=external_reference,
            note=note,
            actor=actor,
        )

    return run_locked(product.company_id, changes, write)


def receive_stock_lines(
    *,
    warehouse: Warehouse,
    lines: Sequence[tuple[Product, int]],
    reference_type: str,
    reference_id: int,
    actor=None,
    note: str = "",
) -> list[LedgerEntry]:
    """Goods in against a document (a purchase order): add each line's units to its
    product's stock in the warehouse, writing one ``receipt`` ledger entry per line that
    refers to the document (no movement of its own: the document is the record).

    Every level is locked in one statement (``operations.run_locked``); create missing levels
    before the transaction (``levels.prepare_receipt_lines``). One line per product."""
    changes = []
    for product, quantity in lines:
        check_can_hold_stock(product, warehouse)
        check_quantity(quantity)
        changes.append(LevelChange((product.id, warehouse.id), quantity, LedgerReason.RECEIPT))
    if not changes:
        return []

    def write(levels: dict[LevelKey, LockedLevel]) -> StockOperationResult:
        entries = apply_changes(
            changes,
            company_id=warehouse.company_id,
            reference_type=reference_type,
            reference_id=reference_id,
            actor=actor,
            note=note,
            levels=levels,
        )
        return StockOperationResult(None, entries)

    return run_locked(warehouse.company_id, changes, write).ledger_entries


def adjust_stock(
    *,
    product: Product,
    warehouse: Warehouse,
    reason: str,
    change: int | None = None,
    counted_quantity: int | None = None,
    actor=None,
    note: str = "",
    external_reference: str = "",
) -> StockOperationResult:
    """Correct the stock of a product in a warehouse, by a signed ``change`` or to a
    ``counted_quantity`` (exactly one of them), with an adjustment ``reason``.

    Locks the level, applies the change (an ``adjustment`` movement and ledger entry). A count
    that matches the current quantity is still recorded as a movement (proof that the count
    was made, with ``quantity`` 0) but writes no ledger entry: nothing changed. Taking out
    more than the level holds is ``InsufficientStock``."""
    check_can_hold_stock(product, warehouse)
    if (change is None) == (counted_quantity is None):
        raise ValidationError(
            {"non_field_errors": ["Give exactly one of change and counted_quantity."]}
        )
    if reason not in AdjustmentReason.values:
        raise ValidationError({"reason": [f"Must be one of {', '.join(AdjustmentReason.values)}."]})
    if change is not None and (change == 0 or abs(change) > MAX_OPERATION_QUANTITY):
        raise ValidationError(
            {"change": [f"Must be a non-zero number of units, at most {MAX_OPERATION_QUANTITY}."]}
        )
    if counted_quantity is not None and not 0 <= counted_quantity <= MAX_STOCK_QUANTITY:
        raise ValidationError(
            {"counted_quantity": [f"Must be between 0 and {MAX_STOCK_QUANTITY}."]}
        )

    key = (product.id, warehouse.id)

    def write(levels: dict[LevelKey, LockedLevel], changes: list[LevelChange]):
        return _record_movement(
            changes,
            levels,
            kind=MovementKind.ADJUSTMENT,
            product=product,
            warehouse=warehouse,
            quantity=sum(change.change for change in changes),
            counted_quantity=counted_quantity,
            adjustment_reason=reason,
            external_reference=external_reference,
            note=note,
            actor=actor,
        )

    if counted_quantity is None:
        changes = [LevelChange(key, change, LedgerReason.ADJUSTMENT)]
        return run_locked(
            product.company_id, changes, partial(write, changes=changes), quantity_field="change"
        )
    # A count sets the quantity to a value within bounds: it cannot be short.
    with transaction.atomic(savepoint=False):
        levels = locking.lock_stock_levels(product.company_id, [key])
        refusal = add_missing_levels(product.company_id, levels, [key] if counted_quantity else [])
        if refusal is None:
            counted_change = counted_quantity - (levels[key].quantity if key in levels else 0)
            changes = (
                [LevelChange(key, counted_change, LedgerReason.ADJUSTMENT)]
                if counted_change
                else []
            )
            return write(levels, changes)
    raise refusal


@transaction.atomic
def count_stocks(
    company_id: int,
    counts: Sequence[tuple[Product, Warehouse, int]],
    *,
    actor=None,
    note: str = "",
    external_reference: str = "",
) -> None:
    """``adjust_stock`` of many stock counts (product, warehouse, counted quantity) of the
    company, in order, in a few statements: their levels locked in one statement, a
    ``count`` movement for each (one statement for all), the ledger entries of the counts
    that changed a quantity, the levels' new quantities and their stock events
    (``operations.apply_changes``). Missing levels are created as ``adjust_stock`` creates
    them (``operations.add_missing_levels``)."""
    for product, warehouse, counted in counts:
        check_can_hold_stock(product, warehouse)
        if not 0 <= counted <= MAX_STOCK_QUANTITY:
            raise ValidationError(
                {"counted_quantity": [f"Must be between 0 and {MAX_STOCK_QUANTITY}."]}
            )
    keys = [(product.id, warehouse.id) for product, warehouse, _ in counts]
    levels = locking.lock_stock_levels(company_id, keys)
    refusal = add_missing_levels(
        company_id,
        levels,
        [key for key, (_, _, counted) in zip(keys, counts, strict=True) if counted],
    )
    if refusal is not None:
        raise refusal
    quantities = {key: level.quantity for key, level in levels.items()}
    deltas = []
    for key, (_, _, counted) in zip(keys, counts, strict=True):
        deltas.append(counted - quantities.get(key, 0))
        quantities[key] = counted
    now = timezone.now()
    movement_ids = insert_rows(
        StockMovement,
        MOVEMENT_FIELDS,
        [
            (
                company_id,
                MovementKind.ADJUSTMENT.value,
                product.id,
                warehouse.id,
                None,
                delta,
                counted,
                AdjustmentReason.COUNT.value,
                external_reference,
                note,
                actor.pk if actor is not None else None,
                now,
            )
            for (product, warehouse, counted), delta in zip(counts, deltas, strict=True)
        ],
    )
    apply_changes(
        [
            LevelChange(key, delta, LedgerReason.ADJUSTMENT, movement_id)
            for key, delta, movement_id in zip(keys, deltas, movement_ids, strict=True)
            if delta
        ],
        company_id=company_id,
        reference_type=ReferenceType.MOVEMENT,
        reference_id=None,
        actor=actor,
        note=note,
        adjustment_reason=AdjustmentReason.COUNT,
        levels=levels,
    )


# The columns of a movement row, as ``count_stocks`` writes them.
MOVEMENT_FIELDS = (
    "company_id",
    "kind",
    "product_id",
    "warehouse_id",
    "to_warehouse_id",
    "quantity",
    "counted_quantity",
    "adjustment_reason",
    "external_reference",
    "note",
    "created_by_id",
    "created_at",
)


def transfer_stock(
    *,
    product: Product,
    from_warehouse: Warehouse,
    to_warehouse: Warehouse,
    quantity: int,
    actor=None,
    note: str = "",
) -> StockOperationResult:
    """Move ``quantity`` units of a product from one warehouse to another of its company.

    Locks both levels in one statement (id order; see ``operations.add_missing_levels`` for a
    missing destination), and writes a ``transfer`` movement with a ``transfer_out`` and a
    ``transfer_in`` ledger entry."""
    check_can_hold_stock(product, from_warehouse, warehouse_field="from_warehouse_id")
    check_can_hold_stock(product, to_warehouse, warehouse_field="to_warehouse_id")
    if from_warehouse.id == to_warehouse.id:
        raise ValidationError({"to_warehouse_id": ["Must differ from from_warehouse_id."]})
    check_quantity(quantity)
    source, destination = (product.id, from_warehouse.id), (product.id, to_warehouse.id)
    changes = [
        LevelChange(source, -quantity, LedgerReason.TRANSFER_OUT),
        LevelChange(destination, quantity, LedgerReason.TRANSFER_IN),
    ]

    def write(levels: dict[LevelKey, LockedLevel]) -> StockOperationResult:
        return _record_movement(
            changes,
            levels,
            kind=MovementKind.TRANSFER,
            product=product,
            warehouse=from_warehouse,
            to_warehouse=to_warehouse,
            quantity=quantity,
            note=note,
            actor=actor,
        )

    return run_locked(product.company_id, changes, write)


INITIAL_STOCK_NOTE = "Stock at product creation"


def record_initial_stock(
    *,
    product: Product,
    warehouse: Warehouse,
    quantity: int,
    actor=None,
    note: str = "",
    import_id: int | None = None,
) -> StockLevel:
    """Create the stock level of a new product in a warehouse, with the product's effective
    low-stock threshold (read under the locks of ``locking`` rule 5) and its ``initial``
    ledger entry when the quantity is not zero: ``record_initial_stocks`` of one level."""
    (opened,) = record_initial_stocks(
        product.company_id,
        [(product.pk, warehouse.pk, quantity)],
        actor=actor,
        note=note,
        import_id=import_id,
    )
    return StockLevel(
        id=opened.level_id,
        company_id=product.company_id,
        product=product,
        warehouse=warehouse,
        quantity=quantity,
        low_stock_threshold=opened.threshold,
    )


@transaction.atomic
def record_initial_stocks(
    company_id: int,
    openings: Sequence[tuple[int, int, int]],
    *,
    actor=None,
    note: str = "",
    import_id: int | None = None,
) -> list[LevelMove]:
    """Create the stock levels of new products of the company, one per (product id,
    warehouse id, quantity) of ``openings``, in that order and in one statement
    (``bulkinsert``): each with its product's effective low-stock threshold (read under the
    locks of ``locking`` rule 5), and, when its quantity is not zero, its ``initial`` ledger
    entry (one statement for all) and the stock events of that change from 0. The products
    are new, so nothing else can hold a lock on these levels. An entry refers to its
    product, or to the import ``import_id`` that created it. Returns each level's change
    from 0, in order."""
    if not openings:
        return []
    now = timezone.now()
    thresholds = lock_effective_thresholds(
        company_id, {product_id for product_id, _, _ in openings}
    )
    level_ids = insert_rows(
        StockLevel,
        (
            "company_id",
            "product_id",
            "warehouse_id",
            "quantity",
            "low_stock_threshold",
            "updated_at",
        ),
        [
            (company_id, product_id, warehouse_id, quantity, thresholds.get(product_id), now)
            for product_id, warehouse_id, quantity in openings
        ],
    )
    opened = [
        LevelMove(level_id, product_id, warehouse_id, thresholds.get(product_id), 0, quantity)
        for level_id, (product_id, warehouse_id, quantity) in zip(level_ids, openings, strict=True)
    ]
    stocked = [move for move in opened if move.after]
    reference_type = (ReferenceType.PRODUCT if import_id is None else ReferenceType.IMPORT).value
    insert_rows(
        LedgerEntry,
        (
            "company_id",
            "stock_level_id",
            "product_id",
            "warehouse_id",
            "change",
            "quantity_after",
            "reason",
            "adjustment_reason",
            "reference_type",
            "reference_id",
            "actor_id",
            "note",
            "created_at",
        ),
        [
            (
                company_id,
                move.level_id,
                move.product_id,
                move.warehouse_id,
                move.after,
                move.after,
                LedgerReason.INITIAL.value,
                "",
                reference_type,
                move.product_id if import_id is None else import_id,
                actor.pk if actor is not None else None,
                note,
                now,
            )
            for move in stocked
        ],
    )
    record_crossings(company_id, stocked, at=now)
    return opened
