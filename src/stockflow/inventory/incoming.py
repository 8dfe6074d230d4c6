"""Stock on its way in: units on purchase orders not yet received, per (product, warehouse).

Why here. Purchase orders live in ``purchasing``, the top layer (tenancy → catalog →
inventory → alerts → purchasing), yet the stock-level reads (inventory) and the low-stock
report (alerts) show what is on order. Neither may import purchasing. So the dependency is
inverted: this module, below both readers, defines what an "order book" is (a table of
orders with a company, a destination warehouse, a status and an expected date, and a table
of their lines with a product, the units ordered and the units received) and how the
figures are computed from it; ``purchasing`` registers its two tables here when the app
loads (``PurchasingConfig.ready``). The SQL is written once, here, and used by both readers.
Without a registered order book every figure is 0 (no date).

The figures (SPEC §4.1):

* ``on_order``: units ordered minus units received on lines to that warehouse whose order is
  ``ordered`` or ``partially_received``;
* ``on_draft``: units on lines of ``draft`` orders to that warehouse;
* ``next_expected_date``: the earliest expected date of an order counted in ``on_order``
  whose line still has units to come.

Each is a correlated scalar subquery on the lines of one product (an index probe), joined
to their order on ``id`` and ``company_id``, both tables filtered by the company.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrderBook:
    """The tables and status values of purchase orders, as ``purchasing`` registers them."""

    order_table: str
    line_table: str
    open_statuses: tuple[str, ...]  # ordered, partially received: counted in on_order
    draft_status: str


_order_book: OrderBook | None = None


def register_order_book(book: OrderBook) -> None:
    global _order_book
    _order_book = book


def order_book() -> OrderBook | None:
    return _order_book


def _literals(values: tuple[str, ...]) -> str:
    # Status values are identifiers of the code (TextChoices), never request input.
    for value in values:
        if not value.replace("_", "").isalnum():
            raise ValueError(f"not a status value: {value!r}")
    return ", ".join(f"'{value}'" for value in values)


def incoming_columns(*, product: str, warehouse: str, company: str) -> dict[str, str]:
    """SQL expressions of ``on_order``, ``on_draft`` and ``next_expected_date`` for the
    (product, warehouse) named by the SQL expressions ``product`` and ``warehouse``, in the
    company ``company`` (a column or a placeholder). They take no parameters of their own."""
    book = _order_book
    if book is None:
        return {
            "on_order": "CAST(0 AS BIGINT)",
            "on_draft": "CAST(0 AS BIGINT)",
            "next_expected_date": "CAST(NULL AS DATE)",
        }

    def over_lines(select: str, statuses: tuple[str, ...], extra: str = "") -> str:
        return f"""(
            SELECT {select}
            FROM {book.line_table} pol
            JOIN {book.order_table} po
              ON po.id = pol.order_id AND po.company_id = pol.company_id
            WHERE pol.company_id = {company} AND po.company_id = {company}
              AND pol.product_id = {product} AND po.warehouse_id = {warehouse}
              AND po.status IN ({_literals(statuses)}) {extra}
        )"""

    remaining = "pol.quantity_ordered - pol.quantity_received"
    return {
        "on_order": over_lines(
            f"CAST(COALESCE(SUM({remaining}), 0) AS BIGINT)", book.open_statuses
        ),
        "on_draft": over_lines(
            "CAST(COALESCE(SUM(pol.quantity_ordered), 0) AS BIGINT)", (book.draft_status,)
        ),
        "next_expected_date": over_lines(
            "MIN(po.expected_date)",
            book.open_statuses,
            "AND pol.quantity_received < pol.quantity_ordered",
        ),
    }
