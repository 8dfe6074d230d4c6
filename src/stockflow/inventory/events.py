"""Stock events: a stock level crossing its low-stock threshold, or running out, recorded in
the transaction of the change that caused it (so a rolled-back change leaves none, and a
committed one is never without its event).

One function, ``record_crossings``, is called wherever a level's quantity changes
(``services``), with the quantity before and after the change as the locked row gave them:
the UPDATE's ``RETURNING``, or the level locked ``FOR NO KEY UPDATE`` (``locking``). Never from
a separate read, which a concurrent change could have made stale. A change crosses at most
once per kind, so each crossing is exactly one event:

* ``stock.low``: from ``>= threshold`` to ``< threshold``;
* ``stock.out``: from ``> 0`` to ``0`` (whatever the threshold);
* ``stock.replenished``: from ``< threshold`` to ``>= threshold``.

A level is created with quantity 0 (``locking.ensure_stock_levels``) and without event;
``record_initial_stock`` is a change from 0. Replaying a level's ledger from 0 through its
``quantity_after`` therefore yields exactly its events.

The alert figures (average daily sales, days until stockout, suggested reorder quantity) are
the low-stock report's, a layer above this one: the alerts app registers the function that
computes them (``provide_alert_figures``), so this module imports nothing from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from stockflow.bulkinsert import insert_rows
from stockflow.catalog.models import Product
from stockflow.inventory.models import StockEvent, StockEventType
from stockflow.locking import LevelKey

#: (company id, keys of the levels that crossed, now) → {key: figures} for the keys that are
#: low-stock alerts
AlertFigures = Callable[[int, list[LevelKey], datetime], dict[LevelKey, dict]]

_alert_figures: AlertFigures | None = None


def provide_alert_figures(function: AlertFigures | None) -> None:
    """Register the function that computes the alert figures of levels (``alerts`` does, when
    the app is ready)."""
    global _alert_figures
    _alert_figures = function


@dataclass(slots=True)
class LevelMove:
    """One change of one locked stock level: its quantity before and after, its threshold."""

    level_id: int
    product_id: int
    warehouse_id: int
    threshold: int | None
    before: int
    after: int


def crossings(before: int, after: int, threshold: int | None) -> list[str]:
    """The event types of a change from ``before`` to ``after`` units (in this order)."""
    types = []
    if threshold is not None:
        if before >= threshold > after:
            types.append(StockEventType.LOW)
        elif before < threshold <= after:
            types.append(StockEventType.REPLENISHED)
    if before > 0 and after == 0:
        types.append(StockEventType.OUT)
    return types


# The columns of a stock event row, as ``record_crossings`` writes them.
EVENT_FIELDS = (
    "company_id",
    "type",
    "stock_level_id",
    "product_id",
    "warehouse_id",
    "data",
    "created_at",
)


def record_crossings(
    company_id: int, moves: Iterable[LevelMove], *, at: datetime | None = None
) -> None:
    """Insert the events of ``moves`` (changes to locked levels of ``company_id``, in the order
    they were applied). Costs nothing when no level crossed: the hot paths call it on every
    change. Call inside the transaction of the change."""
    found = [
        (move, kind)
        for move in moves
        for kind in crossings(move.before, move.after, move.threshold)
    ]
    if not found:
        return
    at = at or timezone.now()
    product_ids = sorted({move.product_id for move, _ in found})
    skus = dict(
        Product.objects.filter(company_id=company_id, id__in=product_ids).values_list("id", "sku")
    )
    alerting = sorted(
        {
            (move.product_id, move.warehouse_id)
            for move, kind in found
            if kind != StockEventType.REPLENISHED
        }
    )
    figures = _alert_figures(company_id, alerting, at) if alerting and _alert_figures else {}
    rows = []
    for move, kind in found:
        data = {
            "product_id": move.product_id,
            "sku": skus.get(move.product_id, ""),
            "warehouse_id": move.warehouse_id,
            "stock_level_id": move.level_id,
            "quantity_before": move.before,
            "quantity_after": move.after,
            "threshold": move.threshold,
        }
        if kind != StockEventType.REPLENISHED:
            data.update(figures.get((move.product_id, move.warehouse_id), {}))
        rows.append(
            (company_id, str(kind), move.level_id, move.product_id, move.warehouse_id, data, at)
        )
    # One statement (``bulkinsert``): a sale's one event, or an import chunk's thousands.
    insert_rows(StockEvent, EVENT_FIELDS, rows)
