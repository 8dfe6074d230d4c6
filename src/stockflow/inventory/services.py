"""Every write to stock: explicit transactions, locks (see ``locking``), ledger entries.

Each operation is atomic and writes, in the same transaction, the new quantities, one ledger
entry per stock level changed, and the document the entries refer to (a ``Sale`` or a
``StockMovement``). Not enough stock raises ``InsufficientStock`` listing every short line, and
nothing is written.

When the caller already holds a transaction (an API request under ``run_idempotent``), the
operations join it without a savepoint (none is needed on the hot path). A refusal (not enough
stock, a level that would overflow) is always found before anything is written, and is raised
after the operation's block has closed cleanly: the caller's transaction stays usable, so a
caller may catch ``InsufficientStock`` and go on (e.g. an import skipping sold-out lines).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from stockflow import locking
from stockflow.api.errors import Conflict, ErrorCode
from stockflow.catalog.models import Product, Warehouse
from stockflow.catalog.selectors import bundle_leaf_components
from stockflow.inventory.events import LevelMove, record_crossings
from stockflow.inventory.levels import ensure_stock_levels, lock_effective_thresholds
from stockflow.inventory.models import (
    AdjustmentReason,
    LedgerEntry,
    LedgerReason,
    MovementKind,
    ReferenceType,
    Sale,
    StockLevel,
    StockMovement,
)
from stockflow.locking import LevelKey, LockedLevel

# One operation moves at most this many units; a stock level holds at most MAX_STOCK_QUANTITY.
# Both keep every computation far from the 64-bit limits of the columns.
MAX_OPERATION_QUANTITY = 1_000_000_000
MAX_STOCK_QUANTITY = 1_000_000_000_000_000
# A sale may be dated slightly ahead of the server clock (clock skew), not more.
SOLD_AT_MAX_AHEAD = timedelta(minutes=5)


class InsufficientStock(Conflict):
    """409 ``insufficient_stock``; ``lines`` lists every short (product, warehouse)."""

    default_code = ErrorCode.INSUFFICIENT_STOCK
    default_detail = "Not enough stock."

    def __init__(self, lines: list[dict]):
        super().__init__(lines=lines)
        self.lines = lines


def _short_line(key: LevelKey, requested: int, available: int) -> dict:
    return {
        "product_id": key[0],
        "warehouse_id": key[1],
        "requested": requested,
        "available": available,
    }


@dataclass(slots=True)
class LevelChange:
    """One signed change to one stock level, and the ledger reason it is written with."""

    key: LevelKey
    change: int
    reason: str


@dataclass
class StockOperationResult:
    """What an operation wrote: its document (a Sale or a StockMovement; None when the
    document is the caller's, e.g. a purchase order) and ledger entries."""

    document: Sale | StockMovement | None
    ledger_entries: list[LedgerEntry]


def check_can_hold_stock(
    product: Product,
    warehouse: Warehouse,
    *,
    product_field: str = "product_id",
    warehouse_field: str = "warehouse_id",
    sale: bool = False,
) -> None:
    """Raise a 400 on the field at fault unless ``product`` may have its stock moved in
    ``warehouse``: both active, same company, and (except for a sale) not a bundle."""
    errors: dict[str, list[str]] = {}
    if product.is_bundle and not sale:
        errors[product_field] = [
            "A bundle holds no stock of its own: move the stock of its components."
        ]
    elif not product.is_active:
        errors[product_field] = ["This product is inactive."]
    if warehouse.company_id != product.company_id:
        errors[warehouse_field] = ["This warehouse belongs to another company than the product."]
    elif not warehouse.is_active:
        errors[warehouse_field] = ["This warehouse is inactive."]
    if errors:
        raise ValidationError(errors)


def _check_quantity(quantity: int, field: str = "quantity") -> None:
    if not 0 < quantity <= MAX_OPERATION_QUANTITY:
        raise ValidationError({field: [f"Must be between 1 and {MAX_OPERATION_QUANTITY}."]})


def _apply_changes(
    changes: list[LevelChange],
    *,
    company_id: int,
    reference_type: str,
    reference_id: int,
    actor=None,
    note: str = "",
    adjustment_reason: str = "",
    levels: dict[LevelKey, LockedLevel],
) -> list[LedgerEntry]:
    """Write ``changes`` to the locked ``levels`` (in one UPDATE) and their ledger entries (in
    one INSERT), in the order of ``changes``, and their stock events. The caller has checked
    the new quantities."""
    now = timezone.now()
    entries = []
    moves = []
    for change in changes:
        level = levels[change.key]
        before = level.quantity
        level.quantity += change.change
        moves.append(_move(level, before))
        entries.append(
            LedgerEntry(
                company_id=company_id,
                stock_level_id=level.id,
                product_id=level.product_id,
                warehouse_id=level.warehouse_id,
                change=change.change,
                quantity_after=level.quantity,
                reason=change.reason,
                adjustment_reason=adjustment_reason,
                reference_type=reference_type,
                reference_id=reference_id,
                actor=actor,
                note=note,
                created_at=now,
            )
        )
    changed = {change.key: levels[change.key] for change in changes}.values()
    StockLevel.objects.bulk_update(
        [StockLevel(id=level.id, quantity=level.quantity, updated_at=now) for level in changed],
        ["quantity", "updated_at"],
    )
    record_crossings(company_id, moves, at=now)
    return LedgerEntry.objects.bulk_create(entries)


def _move(level: LockedLevel, before: int) -> LevelMove:
    return LevelMove(
        level.id,
        level.product_id,
        level.warehouse_id,
        level.low_stock_threshold,
        before,
        level.quantity,
    )


def _add_missing_levels(
    levels: dict[LevelKey, LockedLevel], increased: list[LevelKey]
) -> Conflict | None:
    """Add to the locked ``levels`` the ``increased`` ones that did not exist. The API
    creates them before its transaction (``locking.ensure_stock_levels``, its ``prepare``
    step), so this only happens on a direct call: they are created here, in its transaction,
    and locked after the others (out of id order), which is safe as long as concurrent direct
    callers create their levels first too. Returns a refusal if one cannot be created."""
    missing = [key for key in increased if key not in levels]
    if missing:
        ensure_stock_levels(missing)
        levels.update(locking.lock_stock_levels(missing))
        if any(key not in levels for key in missing):
            # Only a product or warehouse without history can be deleted (with its empty
            # levels, see catalog.services): one was, while this operation was running.
            return Conflict("The product or the warehouse was deleted meanwhile.")
    return None


def _refusal(
    changes: list[LevelChange], levels: dict[LevelKey, LockedLevel], quantity_field: str
) -> Exception | None:
    """Why ``changes`` cannot be applied to the locked ``levels``, if they cannot:
    ``InsufficientStock`` listing every short line, or a 400 if a level would exceed
    MAX_STOCK_QUANTITY."""
    net: dict[LevelKey, int] = {}
    for change in changes:
        net[change.key] = net.get(change.key, 0) + change.change
    short = []
    for key, change in net.items():
        available = levels[key].quantity if key in levels else 0
        if available + change < 0:
            short.append(_short_line(key, -change, available))
        elif available + change > MAX_STOCK_QUANTITY:
            return ValidationError(
                {quantity_field: [f"A stock level holds at most {MAX_STOCK_QUANTITY} units."]}
            )
    return InsufficientStock(short) if short else None


def _run_locked(
    changes: list[LevelChange],
    write: Callable[[dict[LevelKey, LockedLevel]], StockOperationResult],
    *,
    quantity_field: str = "quantity",
) -> StockOperationResult:
    """In one transaction: lock every level ``changes`` touch (one statement, id order),
    check them, and ``write`` (the changes, their ledger entries and their document). A
    refusal is raised once the block has closed, nothing written (see the module docstring)."""
    increased = sorted({change.key for change in changes if change.change > 0})
    with transaction.atomic(savepoint=False):
        levels = locking.lock_stock_levels(change.key for change in changes)
        refusal = _refusal(changes, levels, quantity_field)
        if refusal is None:
            refusal = _add_missing_levels(levels, increased)
        if refusal is None:
            return write(levels)
    raise refusal


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
    entries = _apply_changes(
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

    Locks the stock level (see ``_add_missing_levels`` for a missing one), adds the
    quantity, and writes a ``receipt`` movement and its ledger entry."""
    check_can_hold_stock(product, warehouse)
    _check_quantity(quantity)
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

    return _run_locked(changes, write)


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

    Every level is locked in one statement (``_run_locked``); create missing levels before
    the transaction (``levels.prepare_receipt_lines``). One line per product."""
    changes = []
    for product, quantity in lines:
        check_can_hold_stock(product, warehouse)
        _check_quantity(quantity)
        changes.append(LevelChange((product.id, warehouse.id), quantity, LedgerReason.RECEIPT))
    if not changes:
        return []

    def write(levels: dict[LevelKey, LockedLevel]) -> StockOperationResult:
        entries = _apply_changes(
            changes,
            company_id=warehouse.company_id,
            reference_type=reference_type,
            reference_id=reference_id,
            actor=actor,
            note=note,
            levels=levels,
        )
        return StockOperationResult(None, entries)

    return _run_locked(changes, write).ledger_entries


def adjust_stock(
    *,
    product: Product,
    warehouse: Warehouse,
    reason: str,
    change: int | None = None,
    counted_quantity: int | None = None,
    actor=None,
    note: str = "",
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
            note=note,
            actor=actor,
        )

    if counted_quantity is None:
        changes = [LevelChange(key, change, LedgerReason.ADJUSTMENT)]
        return _run_locked(changes, partial(write, changes=changes), quantity_field="change")
    # A count sets the quantity to a value within bounds: it cannot be short.
    with transaction.atomic(savepoint=False):
        levels = locking.lock_stock_levels([key])
        refusal = _add_missing_levels(levels, [key] if counted_quantity else [])
        if refusal is None:
            counted_change = counted_quantity - (levels[key].quantity if key in levels else 0)
            changes = (
                [LevelChange(key, counted_change, LedgerReason.ADJUSTMENT)]
                if counted_change
                else []
            )
            return write(levels, changes)
    raise refusal


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

    Locks both levels in one statement (id order; see ``_add_missing_levels`` for a
    missing destination), and writes a ``transfer`` movement with a ``transfer_out`` and a
    ``transfer_in`` ledger entry."""
    check_can_hold_stock(product, from_warehouse, warehouse_field="from_warehouse_id")
    check_can_hold_stock(product, to_warehouse, warehouse_field="to_warehouse_id")
    if from_warehouse.id == to_warehouse.id:
        raise ValidationError({"to_warehouse_id": ["Must differ from from_warehouse_id."]})
    _check_quantity(quantity)
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

    return _run_locked(changes, write)


def check_sold_at(sold_at: datetime | None, now: datetime) -> datetime:
    """``sold_at`` defaults to now; past dates are allowed (imports), future ones are not."""
    if sold_at is None:
        return now
    if sold_at > now + SOLD_AT_MAX_AHEAD:
        raise ValidationError({"sold_at": ["A sale cannot be dated in the future."]})
    return sold_at


def record_sale(
    *,
    product: Product,
    warehouse: Warehouse,
    quantity: int,
    unit_price: Decimal | None = None,
    sold_at: datetime | None = None,
    actor=None,
) -> StockOperationResult:
    """Record a sale and take its units out of stock, all or nothing.

    A product: one conditional UPDATE takes the units if the level holds enough (no separate
    lock statement), then the sale and its ledger entry are inserted. A bundle: every leaf
    component times ``quantity`` is taken out of the warehouse, all levels locked in one
    statement; a shortage on any of them writes nothing. ``unit_price`` defaults to the
    product's price, ``sold_at`` to now (past dates allowed, future ones refused)."""
    check_can_hold_stock(product, warehouse, sale=True)
    _check_quantity(quantity)
    now = timezone.now()
    sold_at = check_sold_at(sold_at, now)
    if unit_price is None:
        unit_price = product.price
    if product.is_bundle:
        return _record_bundle_sale(product, warehouse, quantity, unit_price, sold_at, actor)

    key = (product.id, warehouse.id)
    with transaction.atomic(savepoint=False):
        level, refusal = _take_from_one_level(key, quantity)
        if refusal is None:
            sale = Sale.objects.create(
                company_id=product.company_id,
                product=product,
                warehouse=warehouse,
                quantity=quantity,
                unit_price=unit_price,
                sold_at=sold_at,
                created_by=actor,
                created_at=now,
            )
            entry = LedgerEntry.objects.create(
                company_id=product.company_id,
                stock_level_id=level.id,
                product_id=key[0],
                warehouse_id=key[1],
                change=-quantity,
                quantity_after=level.quantity,
                reason=LedgerReason.SALE,
                reference_type=ReferenceType.SALE,
                reference_id=sale.id,
                actor=actor,
                created_at=now,
            )
            record_crossings(product.company_id, [_move(level, level.quantity + quantity)], at=now)
            return StockOperationResult(sale, [entry])
    raise refusal


@dataclass(slots=True)
class PlainSale:
    """What ``try_record_plain_sale`` wrote: the sale row and its one ledger entry."""

    id: int
    company_id: int
    product_id: int
    warehouse_id: int
    quantity: int
    unit_price: Decimal
    sold_at: datetime
    created_by_id: int | None
    created_at: datetime
    ledger_entry_id: int
    stock_level_id: int
    quantity_after: int


def _plain_sale_statements(db, company_count: int) -> tuple[str, str, str]:
    level = StockLevel._meta.db_table
    product = Product._meta.db_table
    # SQLite's RETURNING cannot name the tables of UPDATE … FROM: a subquery reads the price.
    price = (
        "p.price"
        if db.vendor == "postgresql"
        else f"(SELECT price FROM {product} WHERE id = {level}.product_id)"
    )
    companies = ", ".join(["%s"] * company_count)
    take = f"""
        UPDATE {level} SET quantity = {level}.quantity - %s, updated_at = %s
        FROM {product} p, {Warehouse._meta.db_table} w
        WHERE {level}.product_id = %s AND {level}.warehouse_id = %s
          AND {level}.quantity >= %s AND {level}.company_id IN ({companies})
          AND p.id = {level}.product_id AND p.company_id = {level}.company_id
          AND p.is_active AND NOT p.is_bundle
          AND w.id = {level}.warehouse_id AND w.company_id = {level}.company_id AND w.is_active
        RETURNING {level}.id, {level}.quantity, {level}.company_id, {price},
                  {level}.low_stock_threshold
    """
    insert_sale = f"""
        INSERT INTO {Sale._meta.db_table}
            (company_id, product_id, warehouse_id, quantity, unit_price, sold_at, created_by_id,
             created_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        RETURNING id
    """
    insert_entry = f"""
        INSERT INTO {LedgerEntry._meta.db_table}
            (company_id, stock_level_id, product_id, warehouse_id, change, quantity_after, reason,
             adjustment_reason, reference_type, reference_id, actor_id, note, created_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, '', %s, %s, %s, '', %s)
        RETURNING id
    """
    return take, insert_sale, insert_entry


def try_record_plain_sale(
    *,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    company_ids: Sequence[int],
    actor=None,
) -> PlainSale | None:
    """Record the commonest sale in three statements, or return ``None`` having written
    nothing: then ``record_sale`` must decide (and explain) the request.

    Why it exists: POST /api/sales is the hottest write of the service, and the complete
    path (resolving the product and the warehouse, then ``record_sale``) costs two reads and
    several ORM compilations on top of the three writes. Here one conditional UPDATE decides
    everything at once: it takes ``quantity`` units from the level of a plain (not bundle),
    active product in an active warehouse of the same company, only if the level holds them
    and belongs to one of ``company_ids`` (the companies where the caller may sell, from
    ``TenantScope.company_ids``: tenant isolation stays with the one mechanism). Then the sale
    and its ledger entry are inserted, in the same transaction, with the product's price and
    the current time, as ``record_sale`` would write them.

    Any other case (a bundle, an inactive or foreign product or warehouse, a missing level,
    too little stock) updates no row and returns ``None``: nothing is written, and the
    complete path produces the precise answer (404, 403, 400 on a field, 409 with the short
    lines). A quantity out of bounds is a 400, as for ``record_sale``."""
    _check_quantity(quantity)
    if not company_ids:
        return None
    db = connections[DEFAULT_DB_ALIAS]
    take, insert_sale, insert_entry = _plain_sale_statements(db, len(company_ids))
    now = timezone.now()
    db_now = db.ops.adapt_datetimefield_value(now)
    actor_id = actor.pk if actor is not None else None
    with transaction.atomic(savepoint=False), db.cursor() as cursor:
        cursor.execute(take, [quantity, db_now, product_id, warehouse_id, quantity, *company_ids])
        row = cursor.fetchone()
        if row is None:
            return None
        level_id, quantity_after, company_id, unit_price, threshold = row
        unit_price = _price_from_db(db, unit_price)
        cursor.execute(
            insert_sale,
            [
                company_id,
                product_id,
                warehouse_id,
                quantity,
                db.ops.adapt_decimalfield_value(unit_price),
                db_now,
                actor_id,
                db_now,
            ],
        )
        sale_id = cursor.fetchone()[0]
        cursor.execute(
            insert_entry,
            [
                company_id,
                level_id,
                product_id,
                warehouse_id,
                -quantity,
                quantity_after,
                LedgerReason.SALE.value,
                ReferenceType.SALE.value,
                sale_id,
                actor_id,
                db_now,
            ],
        )
        entry_id = cursor.fetchone()[0]
        record_crossings(
            company_id,
            [
                LevelMove(
                    level_id,
                    product_id,
                    warehouse_id,
                    threshold,
                    quantity_after + quantity,
                    quantity_after,
                )
            ],
            at=now,
        )
    return PlainSale(
        id=sale_id,
        company_id=company_id,
        product_id=product_id,
        warehouse_id=warehouse_id,
        quantity=quantity,
        unit_price=unit_price,
        sold_at=now,
        created_by_id=actor_id,
        created_at=now,
        ledger_entry_id=entry_id,
        stock_level_id=level_id,
        quantity_after=quantity_after,
    )


def _price_from_db(db, value) -> Decimal:
    """A price read by raw SQL, converted as the ORM converts ``Product.price`` (SQLite
    returns a float or an int: it becomes the same exact ``Decimal`` as through the ORM)."""
    field = Product._meta.get_field("price")
    column = field.get_col(Product._meta.db_table)
    for converter in db.ops.get_db_converters(column) + field.get_db_converters(db):
        value = converter(value, column, db)
    return value


def _take_from_one_level(
    key: LevelKey, quantity: int, attempts: int = 3
) -> tuple[LockedLevel | None, InsufficientStock | None]:
    """Take ``quantity`` units from one level with the conditional UPDATE; when it takes
    nothing, read what the level holds to report it. Units received between the two
    statements would make that report wrong ("available" enough): then try again."""
    for _ in range(attempts):
        level = locking.change_stock_level(key, -quantity)
        if level is not None:
            return level, None
        available = (
            StockLevel.objects.filter(product_id=key[0], warehouse_id=key[1])
            .values_list("quantity", flat=True)
            .first()
        ) or 0
        if available < quantity:
            break
    return None, InsufficientStock([_short_line(key, quantity, available)])


def _bundle_changes(bundle: Product, warehouse: Warehouse, quantity: int) -> list[LevelChange]:
    components = bundle_leaf_components(bundle.id)
    if not components:
        raise ValidationError({"product_id": ["This bundle has no components to sell."]})
    inactive = list(
        Product.objects.filter(
            id__in=[component_id for component_id, _ in components], is_active=False
        ).values_list("id", flat=True)
    )
    if inactive:
        raise ValidationError(
            {"product_id": [f"This bundle contains inactive products: {inactive}."]}
        )
    return [
        LevelChange((component_id, warehouse.id), -units * quantity, LedgerReason.SALE)
        for component_id, units in components
    ]


def _record_bundle_sale(
    bundle: Product,
    warehouse: Warehouse,
    quantity: int,
    unit_price: Decimal,
    sold_at: datetime,
    actor,
) -> StockOperationResult:
    changes = _bundle_changes(bundle, warehouse, quantity)

    def write(levels: dict[LevelKey, LockedLevel]) -> StockOperationResult:
        sale = Sale.objects.create(
            company_id=bundle.company_id,
            product=bundle,
            warehouse=warehouse,
            quantity=quantity,
            unit_price=unit_price,
            sold_at=sold_at,
            created_by=actor,
        )
        entries = _apply_changes(
            changes,
            company_id=bundle.company_id,
            reference_type=ReferenceType.SALE,
            reference_id=sale.id,
            actor=actor,
            levels=levels,
        )
        return StockOperationResult(sale, entries)

    return _run_locked(changes, write)


@transaction.atomic
def record_initial_stock(
    *, product: Product, warehouse: Warehouse, quantity: int, actor=None, note: str = ""
) -> StockLevel:
    """Create the stock level of a new product in a warehouse, with the product's effective
    low-stock threshold (read under the locks of ``locking`` rule 5) and its ``initial``
    ledger entry when the quantity is not zero. The product is new, so nothing else can hold
    a lock on this level."""
    now = timezone.now()
    threshold = lock_effective_thresholds([product.pk]).get(product.pk)
    level = StockLevel.objects.create(
        company_id=product.company_id,
        product=product,
        warehouse=warehouse,
        quantity=quantity,
        low_stock_threshold=threshold,
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
        record_crossings(
            product.company_id,
            [LevelMove(level.id, product.pk, warehouse.pk, threshold, 0, quantity)],
            at=now,
        )
    return level
