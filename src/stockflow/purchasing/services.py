"""Every write to purchase orders: explicit transactions, locks from ``stockflow.locking``.

* Numbers ``PO-000001`` are given per company in the creating transaction
  (``locking.next_purchase_order_number``).
* Status changes are decided in one place, ``TRANSITIONS``: an action from a status it does
  not start from is 409 ``invalid_status``, and so is editing an order that is not a draft.
* Receiving locks the order, then the stock levels of its lines (the lock order of
  ``stockflow.locking``), checks what remains, and adds the units through
  ``inventory.movements.receive_stock_lines``: ledger ``receipt`` entries referring to the
  order, all in one transaction. Two receipts of one order run one after the other, so
  together they never receive more than was ordered.
* Side effects leave after commit (``transaction.on_commit``): the email to the supplier is a
  task of the worker (``tasks``, ``sending``). Events are recorded in the transaction (``events``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from stockflow import locking
from stockflow.alerts.report import low_stock_report
from stockflow.api.errors import Conflict, ErrorCode
from stockflow.catalog.lead_times import effective_lead_time_days
from stockflow.catalog.models import (
    OBSERVED_ORDERS_WINDOW,
    Product,
    ProductSupplier,
    Supplier,
    Warehouse,
)
from stockflow.inventory import levels
from stockflow.inventory.models import ReferenceType
from stockflow.inventory.movements import receive_stock_lines
from stockflow.purchasing import events, tasks
from stockflow.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    format_number,
)

Status = PurchaseOrderStatus

# action → (the statuses it may start from, the status it leads to; None: decided by the
# action, e.g. a receipt leads to partially_received or received).
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "edit": (frozenset({Status.DRAFT}), Status.DRAFT),
    "order": (frozenset({Status.DRAFT}), Status.ORDERED),
    "cancel": (frozenset({Status.DRAFT, Status.ORDERED}), Status.CANCELLED),
    "receive": (frozenset({Status.ORDERED, Status.PARTIALLY_RECEIVED}), None),
    "close": (frozenset({Status.PARTIALLY_RECEIVED}), Status.CLOSED),
}


PAST_TENSE = {
    "edit": "edited",
    "order": "ordered",
    "cancel": "cancelled",
    "receive": "received",
    "close": "closed",
}


class InvalidStatus(Conflict):
    default_code = ErrorCode.INVALID_STATUS
    default_detail = "The purchase order's status does not allow this."


class OverReceipt(Conflict):
    """409 ``over_receipt``; ``lines`` lists every line that would exceed what remains."""

    default_code = ErrorCode.OVER_RECEIPT
    default_detail = "More than remains to be received on a line."


def check_transition(order: PurchaseOrder, action: str) -> str | None:
    """The status ``action`` leads ``order`` to, or 409 ``invalid_status``."""
    allowed, target = TRANSITIONS[action]
    if order.status not in allowed:
        raise InvalidStatus(
            f"A {order.status} purchase order cannot be {PAST_TENSE[action]}.",
            status=order.status,
            allowed_from=sorted(allowed),
        )
    return target


@dataclass(frozen=True)
class LineInput:
    product: Product
    quantity: int
    unit_cost: Decimal | None = None


# --- creating and editing drafts ----------------------------------------------------------


def _check_header(supplier: Supplier, warehouse: Warehouse) -> None:
    if supplier.company_id != warehouse.company_id:
        raise ValidationError(
            {"supplier_id": ["Must belong to the same company as the warehouse."]}
        )
    if not warehouse.is_active:
        raise ValidationError({"warehouse_id": ["This warehouse is inactive."]})


def _line_rows(
    order: PurchaseOrder, lines: Sequence[LineInput], field: str = "lines"
) -> list[PurchaseOrderLine]:
    """The line rows of ``order``, unit costs defaulting to the supplier link's; a 400 on
    ``lines`` naming the line at fault."""
    # Keyed by the line's index, as DRF reports the errors of a nested list.
    errors: dict[str, dict[str, list[str]]] = {}
    seen: set[int] = set()
    for index, line in enumerate(lines):
        product = line.product
        if product.company_id != order.company_id:
            errors[str(index)] = {"product_id": ["Not found."]}
        elif product.is_bundle:
            errors[str(index)] = {"product_id": ["A bundle is not bought: order its components."]}
        elif product.id in seen:
            errors[str(index)] = {"product_id": ["Already on another line of this order."]}
        seen.add(product.id)
    if any(errors):
        raise ValidationError({field: errors})
    costs = dict(
        ProductSupplier.objects.filter(
            company_id=order.company_id,
            supplier_id=order.supplier_id,
            product_id__in=[line.product.id for line in lines],
        ).values_list("product_id", "unit_cost")
    )
    return [
        PurchaseOrderLine(
            company_id=order.company_id,
            order=order,
            product=line.product,
            quantity_ordered=line.quantity,
            unit_cost=line.unit_cost if line.unit_cost is not None else costs.get(line.product.id),
        )
        for line in lines
    ]


def create_order(
    *,
    supplier: Supplier,
    warehouse: Warehouse,
    lines: Sequence[LineInput] = (),
    expected_date: date | None = None,
    notes: str = "",
    actor=None,
) -> PurchaseOrder:
    """A draft purchase order with its lines and the company's next number."""
    _check_header(supplier, warehouse)
    with transaction.atomic():
        return _create_draft(
            supplier=supplier,
            warehouse=warehouse,
            lines=lines,
            expected_date=expected_date,
            notes=notes,
            actor=actor,
        )


def _create_draft(*, supplier, warehouse, lines, expected_date, notes, actor) -> PurchaseOrder:
    company_id = warehouse.company_id
    now = timezone.now()
    order = PurchaseOrder(
        company_id=company_id,
        supplier=supplier,
        warehouse=warehouse,
        expected_date=expected_date,
        notes=notes,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    rows = _line_rows(order, lines)
    order.number = format_number(locking.next_purchase_order_number(company_id))
    order.save()
    PurchaseOrderLine.objects.bulk_create(rows)
    return order


def _locked(order: PurchaseOrder) -> PurchaseOrder:
    locked = locking.lock_purchase_order(order.pk, order.company_id)
    if locked is None:
        raise Conflict("The purchase order was deleted meanwhile.")
    return locked


_UNSET = object()


def update_order(
    order: PurchaseOrder,
    *,
    supplier: Supplier | None = None,
    warehouse: Warehouse | None = None,
    expected_date=_UNSET,
    notes: str | None = None,
    lines: Sequence[LineInput] | None = None,
) -> PurchaseOrder:
    """Change a draft: its header fields given, and its lines replaced by ``lines`` if given
    (line unit costs default to the supplier link's). Not a draft: 409 ``invalid_status``."""
    with transaction.atomic():
        order = _locked(order)
        check_transition(order, "edit")
        if supplier is not None:
            order.supplier = supplier
        if warehouse is not None:
            order.warehouse = warehouse
        _check_header(order.supplier, order.warehouse)
        if expected_date is not _UNSET:
            order.expected_date = expected_date
        if notes is not None:
            order.notes = notes
        order.updated_at = timezone.now()
        order.save()
        if lines is not None:
            rows = _line_rows(order, lines)
            PurchaseOrderLine.objects.filter(company_id=order.company_id, order=order).delete()
            PurchaseOrderLine.objects.bulk_create(rows)
        elif supplier is not None:
            # Another supplier: lines without a cost of their own take its link's.
            _fill_missing_costs(order)
    return order


def _fill_missing_costs(order: PurchaseOrder) -> None:
    lines = list(
        PurchaseOrderLine.objects.filter(
            company_id=order.company_id, order=order, unit_cost__isnull=True
        )
    )
    costs = dict(
        ProductSupplier.objects.filter(
            company_id=order.company_id,
            supplier_id=order.supplier_id,
            product_id__in=[line.product_id for line in lines],
            unit_cost__isnull=False,
        ).values_list("product_id", "unit_cost")
    )
    priced = [line for line in lines if line.product_id in costs]
    for line in priced:
        line.unit_cost = costs[line.product_id]
    PurchaseOrderLine.objects.bulk_update(priced, ["unit_cost"])


# --- status changes -------------------------------------------------------------------------


def _lead_time_days(order: PurchaseOrder, product_ids: list[int]) -> int:
    """The longest lead time of the supplier's links to the order's products (0 without)."""
    links = ProductSupplier.objects.filter(
        company_id=order.company_id, supplier_id=order.supplier_id, product_id__in=product_ids
    )
    return max((effective_lead_time_days(link) for link in links), default=0)


def place_order(order: PurchaseOrder, *, actor=None, send_to_supplier: bool = False):
    """Draft → ordered: every line priced, at least one line. The expected date, if the
    draft has none, is today + the supplier's lead time. With ``send_to_supplier``, the
    order is emailed to the supplier's contact after commit (``sending``)."""
    with transaction.atomic():
        order = _locked(order)
        target = check_transition(order, "order")
        lines = list(PurchaseOrderLine.objects.filter(company_id=order.company_id, order=order))
        if not lines:
            raise ValidationError({"lines": ["An order needs at least one line."]})
        unpriced = [line.product_id for line in lines if line.unit_cost is None]
        if unpriced:
            raise ValidationError(
                {"lines": [f"Give a unit cost to the lines of products {unpriced}."]}
            )
        if send_to_supplier and not order.supplier.contact_email:
            raise ValidationError({"send_to_supplier": ["The supplier has no contact email."]})
        now = timezone.now()
        if order.expected_date is None:
            lead_time = _lead_time_days(order, [line.product_id for line in lines])
            order.expected_date = now.date() + timedelta(days=lead_time)
        order.status = target
        order.ordered_at = now
        order.ordered_by = actor
        order.updated_at = now
        order.save()
        events.record_order_event(order, events.ORDERED, lines=lines)
        if send_to_supplier:
            # The worker sends it, once the order is committed.
            transaction.on_commit(
                partial(tasks.send_order_to_supplier.enqueue, order.company_id, order.pk)
            )
    return order


def cancel_order(order: PurchaseOrder) -> PurchaseOrder:
    return _change_status(order, "cancel", "cancelled_at")


def close_order(order: PurchaseOrder) -> PurchaseOrder:
    """Partially received → closed: the rest is given up (no longer on order)."""
    return _change_status(order, "close", "closed_at")


def _change_status(order: PurchaseOrder, action: str, stamp: str) -> PurchaseOrder:
    with transaction.atomic():
        order = _locked(order)
        order.status = check_transition(order, action)
        now = timezone.now()
        setattr(order, stamp, now)
        order.updated_at = now
        order.save()
    return order


# --- receiving ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLine:
    line_id: int
    quantity: int


def prepare_receipt(
    order: PurchaseOrder, lines: Sequence[ReceiptLine]
) -> Callable[[], None] | None:
    """What to run before ``receive_order``'s transaction: create the stock levels that the
    lines' products fill in the order's warehouse (``inventory.levels``)."""
    product_ids = PurchaseOrderLine.objects.filter(
        company_id=order.company_id, order=order, id__in=[line.line_id for line in lines]
    ).values_list("product_id", flat=True)
    return levels.prepare_receipt_lines(
        company_id=order.company_id, product_ids=list(product_ids), warehouse_id=order.warehouse_id
    )


def receive_order(
    order: PurchaseOrder, lines: Sequence[ReceiptLine], *, actor=None, note: str = ""
) -> PurchaseOrder:
    """Receive units against an ordered or partly received order, line by line, in one
    transaction: never more than remains on a line (409 ``over_receipt`` listing every such
    line, nothing written). Create the stock levels beforehand (``prepare_receipt``)."""
    line_ids = [line.line_id for line in lines]
    if len(set(line_ids)) != len(line_ids):
        raise ValidationError({"lines": ["Each line at most once."]})
    with transaction.atomic():
        order = _locked(order)
        check_transition(order, "receive")
        rows = {
            row.id: row
            for row in PurchaseOrderLine.objects.filter(
                company_id=order.company_id, order=order
            ).select_related("product")
        }
        unknown = {
            str(index): {"line_id": ["Not a line of this order."]}
            for index, line in enumerate(lines)
            if line.line_id not in rows
        }
        if unknown:
            raise ValidationError({"lines": unknown})
        over = [
            {
                "line_id": line.line_id,
                "product_id": rows[line.line_id].product_id,
                "requested": line.quantity,
                "remaining": rows[line.line_id].quantity_ordered
                - rows[line.line_id].quantity_received,
            }
            for line in lines
            if line.quantity
            > rows[line.line_id].quantity_ordered - rows[line.line_id].quantity_received
        ]
        if over:
            raise OverReceipt(lines=over)
        receive_stock_lines(
            warehouse=order.warehouse,
            lines=[(rows[line.line_id].product, line.quantity) for line in lines],
            reference_type=ReferenceType.PURCHASE_ORDER,
            reference_id=order.pk,
            actor=actor,
            note=note or order.number,
        )
        for line in lines:
            rows[line.line_id].quantity_received += line.quantity
        PurchaseOrderLine.objects.bulk_update(
            [rows[line.line_id] for line in lines], ["quantity_received"]
        )
        now = timezone.now()
        complete = all(row.quantity_received == row.quantity_ordered for row in rows.values())
        order.status = Status.RECEIVED if complete else Status.PARTIALLY_RECEIVED
        order.updated_at = now
        if complete:
            order.received_at = now
        order.save()
        if complete:
            update_observed_lead_times(order, [row.product_id for row in rows.values()])
        events.record_order_event(
            order,
            events.RECEIVED,
            lines=list(rows.values()),
            received={line.line_id: line.quantity for line in lines},
        )
    return order


def update_observed_lead_times(order: PurchaseOrder, product_ids: list[int]) -> None:
    """Recompute, for each link of the order's supplier to ``product_ids``, the average days
    from ordered to fully received over its last ``OBSERVED_ORDERS_WINDOW`` received orders
    (whole calendar days, the average rounded up), and how many orders it covers. Locks the
    links (``locking.lock_supplier_links``)."""
    links = locking.lock_supplier_links(order.company_id, order.supplier_id, product_ids)
    if not links:
        return
    rows = (
        PurchaseOrderLine.objects.filter(
            company_id=order.company_id,
            product_id__in=[link.product_id for link in links],
            order__company_id=order.company_id,
            order__supplier_id=order.supplier_id,
            order__status=Status.RECEIVED,
        )
        .order_by("product_id", "-order__received_at", "-order_id")
        .values_list("product_id", "order__ordered_at", "order__received_at")
    )
    days: dict[int, list[int]] = {}
    for product_id, ordered_at, received_at in rows:
        recent = days.setdefault(product_id, [])
        if len(recent) < OBSERVED_ORDERS_WINDOW and ordered_at and received_at:
            recent.append((received_at.date() - ordered_at.date()).days)
    for link in links:
        recent = days.get(link.product_id, [])
        link.observed_orders = len(recent)
        link.observed_lead_time_days = -(-sum(recent) // len(recent)) if recent else None
    ProductSupplier.objects.bulk_update(links, ["observed_orders", "observed_lead_time_days"])


# --- from the low-stock report --------------------------------------------------------------


@dataclass
class FromAlertsResult:
    orders: list[PurchaseOrder]
    skipped: list[dict]


def create_orders_from_alerts(*, company_id: int, compute_alerts, actor=None) -> FromAlertsResult:
    """Draft orders for the company's current alerts, one per (supplier, warehouse), with
    the suggested quantities (SPEC §4.1) and the supplier link's unit cost. Alerts without a
    supplier, or with nothing to order, are returned as skipped with the reason.

    ``compute_alerts()`` returns the report's rows; it runs after the company's purchase
    order counter is locked, so two concurrent calls run one after the other and the second
    sees the first one's drafts (counted in ``on_draft``): it creates nothing twice."""
    with transaction.atomic():
        locking.lock_purchase_order_counter(company_id)
        rows = compute_alerts()
        skipped: list[dict] = []
        groups: dict[tuple[int, int], list[dict]] = {}
        for row in rows:
            reason = None
            if row["supplier"] is None:
                reason = "no_supplier"
            elif row["suggested_reorder_quantity"] <= 0:
                reason = "nothing_to_order"
            if reason:
                skipped.append(
                    {
                        "product_id": row["product_id"],
                        "warehouse_id": row["warehouse_id"],
                        "reason": reason,
                    }
                )
                continue
            groups.setdefault((row["supplier"]["id"], row["warehouse_id"]), []).append(row)
        suppliers = Supplier.objects.filter(
            company_id=company_id, id__in={key[0] for key in groups}
        ).in_bulk()
        warehouses = Warehouse.objects.filter(
            company_id=company_id, id__in={key[1] for key in groups}
        ).in_bulk()
        products = Product.objects.filter(
            company_id=company_id, id__in={row["product_id"] for g in groups.values() for row in g}
        ).in_bulk()
        orders = [
            _create_draft(
                supplier=suppliers[supplier_id],
                warehouse=warehouses[warehouse_id],
                lines=[
                    LineInput(products[row["product_id"]], row["suggested_reorder_quantity"])
                    for row in group
                ],
                expected_date=None,
                notes="Drafted from the low-stock report.",
                actor=actor,
            )
            for (supplier_id, warehouse_id), group in sorted(groups.items())
        ]
    return FromAlertsResult(orders=orders, skipped=skipped)


def create_orders_from_report(*, company_id: int, params: dict, actor=None) -> FromAlertsResult:
    """``create_orders_from_alerts`` over the low-stock report with ``params`` (validated by
    ``serializers.FromAlertsInput``: the window and cover days, and optionally a warehouse,
    a product type and only some products), read as of the moment the counter is locked."""

    def compute_alerts() -> list[dict]:
        return low_stock_report(
            company_id=company_id,
            now=timezone.now(),
            days=params["days"],
            cover_days=params["cover_days"],
            warehouse_id=params.get("warehouse_id"),
            product_type_id=params.get("product_type_id"),
            product_ids=params.get("product_ids", ()),
        ).rows

    return create_orders_from_alerts(
        company_id=company_id, compute_alerts=compute_alerts, actor=actor
    )
