"""What every stock operation shares: its refusals, its result, the rules a product and a
warehouse must meet for stock to move, and the locked write of a list of level changes.

The operations themselves are in ``movements`` (receipts, adjustments, transfers, initial
stock) and ``sales``. Each is atomic and writes, in the same transaction, the new quantities,
one ledger entry per stock level changed, and the document the entries refer to (a ``Sale``
or a ``StockMovement``). Not enough stock raises ``InsufficientStock`` listing every short
line, and nothing is written.

When the caller already holds a transaction (an API request under ``run_idempotent``), the
operations join it without a savepoint (none is needed on the hot path). A refusal (not enough
stock, a level that would overflow) is always found before anything is written, and is raised
after the operation's block has closed cleanly: the caller's transaction stays usable, so a
caller may catch ``InsufficientStock`` and go on (e.g. an import skipping sold-out lines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from stockflow import locking
from stockflow.api.errors import Conflict, ErrorCode
from stockflow.api.limits import MAX_STOCK_QUANTITY, OPERATION_QUANTITY_RANGE
from stockflow.catalog.models import Product, Warehouse
from stockflow.inventory.events import LevelMove, record_crossings
from stockflow.inventory.levels import ensure_stock_levels
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel, StockMovement
from stockflow.locking import LevelKey, LockedLevel


class InsufficientStock(Conflict):
    """409 ``insufficient_stock``; ``lines`` lists every short (product, warehouse)."""

    default_code = ErrorCode.INSUFFICIENT_STOCK
    default_detail = "Not enough stock."

    def __init__(self, lines: list[dict]):
        super().__init__(lines=lines)
        self.lines = lines


def short_line(key: LevelKey, requested: int, available: int) -> dict:
    return {
        "product_id": key[0],
        "warehouse_id": key[1],
        "requested": requested,
        "available": available,
    }


@dataclass(slots=True)
class LevelChange:
    """One signed change to one stock level, and the ledger reason it is written with; its
    own document (``reference_id``) when the changes of one write refer to several."""

    key: LevelKey
    change: int
    reason: str
    reference_id: int | None = None


@dataclass
class StockOperationResult:
    """What an operation wrote: its document (a Sale or a StockMovement; None when the
    document is the caller's, e.g. a purchase order) and ledger entries. The fast path of
    ``sales.sell`` gives records of the rows instead of model instances (the same attributes,
    which is all its answer needs)."""

    document: Sale | StockMovement | None
    ledger_entries: list[LedgerEntry]


# --- where stock may move -----------------------------------------------------------------

_MODELS = {"product": Product, "warehouse": Warehouse}


@dataclass(frozen=True, slots=True)
class StockRule:
    """One condition a product and a warehouse must meet for stock to move: ``subject``'s
    ``attribute`` equals ``expected``, a boolean or, as ``(subject, attribute)``, the other
    object's attribute. ``message`` is the 400 on the subject's field when it does not.

    Each rule is written once and read two ways: in Python on loaded objects
    (``check_can_hold_stock``) and as SQL over their rows (``stock_rules_sql``)."""

    subject: str
    attribute: str
    expected: bool | tuple[str, str]
    message: str

    def met_by(self, objects: dict[str, Product | Warehouse]) -> bool:
        value = getattr(objects[self.subject], self.attribute)
        if isinstance(self.expected, tuple):
            other, attribute = self.expected
            return value == getattr(objects[other], attribute)
        return value == self.expected

    def sql(self, aliases: dict[str, str]) -> str:
        column = _column(aliases, self.subject, self.attribute)
        if isinstance(self.expected, tuple):
            return f"{column} = {_column(aliases, *self.expected)}"
        return column if self.expected else f"NOT {column}"


def _column(aliases: dict[str, str], subject: str, attribute: str) -> str:
    return f"{aliases[subject]}.{_MODELS[subject]._meta.get_field(attribute).column}"


# A level's stock may move (receipts, adjustments, transfers, the sale of a plain product):
# a product that is no bundle and active, in an active warehouse of its own company. On each
# field, the first rule that fails gives the error.
MAY_HOLD_STOCK = (
    StockRule(
        "product",
        "is_bundle",
        False,
        "A bundle holds no stock of its own: move the stock of its components.",
    ),
    StockRule("product", "is_active", True, "This product is inactive."),
    StockRule(
        "warehouse",
        "company_id",
        ("product", "company_id"),
        "This warehouse belongs to another company than the product.",
    ),
    StockRule("warehouse", "is_active", True, "This warehouse is inactive."),
)
# May be sold: the same, except that a bundle may (its components' stock moves).
MAY_BE_SOLD = tuple(rule for rule in MAY_HOLD_STOCK if rule.attribute != "is_bundle")


def check_can_hold_stock(
    product: Product,
    warehouse: Warehouse,
    *,
    product_field: str = "product_id",
    warehouse_field: str = "warehouse_id",
    sale: bool = False,
) -> None:
    """Raise a 400 on the field at fault unless ``product`` may have its stock moved in
    ``warehouse`` (``MAY_HOLD_STOCK``), or be sold there (``MAY_BE_SOLD``)."""
    objects = {"product": product, "warehouse": warehouse}
    fields = {"product": product_field, "warehouse": warehouse_field}
    errors: dict[str, list[str]] = {}
    for rule in MAY_BE_SOLD if sale else MAY_HOLD_STOCK:
        field = fields[rule.subject]
        if field not in errors and not rule.met_by(objects):
            errors[field] = [rule.message]
    if errors:
        raise ValidationError(errors)


@cache
def stock_rules_sql(rules: tuple[StockRule, ...], *, product: str, warehouse: str) -> str:
    """``rules`` as one SQL condition over the product and warehouse rows aliased
    ``product`` and ``warehouse``."""
    aliases = {"product": product, "warehouse": warehouse}
    return " AND ".join(rule.sql(aliases) for rule in rules)


def check_quantity(quantity: int, field: str = "quantity") -> None:
    if quantity not in OPERATION_QUANTITY_RANGE:
        first, last = OPERATION_QUANTITY_RANGE[0], OPERATION_QUANTITY_RANGE[-1]
        raise ValidationError({field: [f"Must be between {first} and {last}."]})


# --- the locked write of level changes -----------------------------------------------------


def apply_changes(
    changes: list[LevelChange],
    *,
    company_id: int,
    reference_type: str,
    reference_id: int | None,
    actor=None,
    note: str = "",
    adjustment_reason: str = "",
    levels: dict[LevelKey, LockedLevel],
) -> list[LedgerEntry]:
    """Write ``changes`` to the locked ``levels`` (in one UPDATE) and their ledger entries (in
    one INSERT), in the order of ``changes``, and their stock events. An entry refers to
    ``reference_id``, or to its change's own. The caller has checked the new quantities."""
    now = timezone.now()
    entries = []
    moves = []
    for change in changes:
        level = levels[change.key]
        before = level.quantity
        level.quantity += change.change
        moves.append(level_move(level, before))
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
                reference_id=change.reference_id or reference_id,
                actor=actor,
                note=note,
                created_at=now,
            )
        )
    changed = {change.key: levels[change.key] for change in changes}.values()
    StockLevel.objects.filter(company_id=company_id).bulk_update(
        [StockLevel(id=level.id, quantity=level.quantity, updated_at=now) for level in changed],
        ["quantity", "updated_at"],
    )
    record_crossings(company_id, moves, at=now)
    return LedgerEntry.objects.bulk_create(entries)


def level_move(level: LockedLevel, before: int) -> LevelMove:
    """The change of a locked ``level`` from ``before`` to its quantity now, for the stock
    events."""
    return LevelMove(
        level.id,
        level.product_id,
        level.warehouse_id,
        level.low_stock_threshold,
        before,
        level.quantity,
    )


def add_missing_levels(
    company_id: int, levels: dict[LevelKey, LockedLevel], increased: list[LevelKey]
) -> Conflict | None:
    """Add to the locked ``levels`` the ``increased`` ones that did not exist. The API
    creates them before its transaction (``levels.ensure_stock_levels``, its ``prepare``
    step), so this only happens on a direct call: they are created here, in its transaction,
    and locked after the others (out of id order), which is safe as long as concurrent direct
    callers create their levels first too. Returns a refusal if one cannot be created."""
    missing = [key for key in increased if key not in levels]
    if missing:
        ensure_stock_levels(company_id, missing)
        levels.update(locking.lock_stock_levels(company_id, missing))
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
            short.append(short_line(key, -change, available))
        elif available + change > MAX_STOCK_QUANTITY:
            return ValidationError(
                {quantity_field: [f"A stock level holds at most {MAX_STOCK_QUANTITY} units."]}
            )
    return InsufficientStock(short) if short else None


def run_locked(
    company_id: int,
    changes: list[LevelChange],
    write: Callable[[dict[LevelKey, LockedLevel]], StockOperationResult],
    *,
    quantity_field: str = "quantity",
) -> StockOperationResult:
    """In one transaction: lock every level of the company that ``changes`` touch (one statement, id order),
    check them, and ``write`` (the changes, their ledger entries and their document). A
    refusal is raised once the block has closed, nothing written (see the module docstring)."""
    increased = sorted({change.key for change in changes if change.change > 0})
    with transaction.atomic(savepoint=False):
        levels = locking.lock_stock_levels(company_id, (change.key for change in changes))
        refusal = _refusal(changes, levels, quantity_field)
        if refusal is None:
            refusal = add_missing_levels(company_id, levels, increased)
        if refusal is None:
            return write(levels)
    raise refusal
