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

Both forms below read the company's lines of draft and open orders, joined to their order on
``id`` and ``company_id``, both tables filtered by the company, with the same aggregates:
``incoming_columns`` as correlated subqueries (a page of stock levels), ``incoming_cte`` as one
grouped pass over the lines of many products (the low-stock report).
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


FIGURES = ("on_order", "on_draft", "next_expected_date")
_NONE = {
    "on_order": "CAST(0 AS BIGINT)",
    "on_draft": "CAST(0 AS BIGINT)",
    "next_expected_date": "CAST(NULL AS DATE)",
}


def _aggregates(book: OrderBook) -> dict[str, str]:
    """The three figures as aggregates over lines ``pol`` joined to their order ``po``."""
    is_open = f"po.status IN ({_literals(book.open_statuses)})"
    remaining = "pol.quantity_ordered - pol.quantity_received"
    return {
        "on_order": f"CAST(COALESCE(SUM(CASE WHEN {is_open} THEN {remaining} ELSE 0 END), 0)"
        " AS BIGINT)",
        "on_draft": f"CAST(COALESCE(SUM(CASE WHEN po.status = {_literals((book.draft_status,))}"
        " THEN pol.quantity_ordered ELSE 0 END), 0) AS BIGINT)",
        "next_expected_date": f"MIN(CASE WHEN {is_open} AND {remaining} > 0"
        " THEN po.expected_date END)",
    }


def _lines_of_the_book(book: OrderBook, company: str) -> str:
    """FROM and WHERE over the company's lines of draft and open orders."""
    statuses = _literals((book.draft_status, *book.open_statuses))
    return f"""
        FROM {book.line_table} pol
        JOIN {book.order_table} po ON po.id = pol.order_id AND po.company_id = pol.company_id
        WHERE pol.company_id = {company} AND po.company_id = {company}
          AND po.status IN ({statuses})"""


def incoming_columns(*, product: str, warehouse: str, company: str) -> dict[str, str]:
    """SQL expressions of the three figures for the (product, warehouse) named by the SQL
    expressions ``product`` and ``warehouse``, in the company ``company`` (a column or a
    placeholder): correlated subqueries, for a page of rows. They take no parameters."""
    book = _order_book
    if book is None:
        return dict(_NONE)
    where = f"AND pol.product_id = {product} AND po.warehouse_id = {warehouse}"
    return {
        name: f"(SELECT {aggregate} {_lines_of_the_book(book, company)} {where})"
        for name, aggregate in _aggregates(book).items()
    }


def incoming_cte(*, name: str, products: str, company: str) -> str:
    """A CTE ``name`` (product_id, warehouse_id, on_order, on_draft, next_expected_date)
    grouping in one pass the lines of the products that the SQL query ``products`` selects
    (one ``product_id`` column): for many rows at once, where one aggregate beats a
    subquery per row and figure. A (product, warehouse) it lacks has 0, 0 and no date."""
    book = _order_book
    if book is None:
        columns = ", ".join(f"{value} AS {figure}" for figure, value in _NONE.items())
        return f"{name} AS (SELECT 0 AS product_id, 0 AS warehouse_id, {columns} WHERE 1 = 0)"
    columns = ", ".join(
        f"{aggregate} AS {figure}" for figure, aggregate in _aggregates(book).items()
    )
    return f"""{name} AS (
        SELECT pol.product_id, po.warehouse_id, {columns}
        {_lines_of_the_book(book, company)}
          AND pol.product_id IN ({products})
        GROUP BY pol.product_id, po.warehouse_id
    )"""
