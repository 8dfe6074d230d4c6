"""Exports: a company's products, stock levels, ledger, sales, purchase orders and low-stock
report as CSV
(streamed: rows are read in chunks by id, keyset, and written as they come, so memory stays
constant whatever the size) or XLSX (built in memory, up to ``STOCKFLOW_EXPORT_XLSX_MAX_ROWS``
rows; larger: use CSV).

Every query names the company; related rows (SKUs, warehouse codes, type names) are read per
chunk within the company, not joined. A text cell starting with ``= + - @`` (or a tab or
carriage return) gets a leading ``'`` so that a spreadsheet never reads it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from stockflow.alerts import forecast
from stockflow.alerts import selectors as alert_selectors
from stockflow.catalog.models import Product, ProductType, Supplier, Warehouse
from stockflow.dataio.importers import STOCK_PREFIX
from stockflow.inventory.models import StockLevel
from stockflow.purchasing import selectors as purchasing_selectors
from stockflow.purchasing.models import PurchaseOrderLine

CHUNK_ROWS = 2000
BLOCK_CHARS = 64 * 1024
#: purchase orders read at once: each may have hundreds of lines, read with it
ORDERS_PER_CHUNK = 100
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """A cell as written: text that a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Line:
    """csv.writer's file: keeps the last line written."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """The file in blocks of about ``BLOCK_CHARS``: one write to the client per block, not
    per row (millions of rows would be millions of socket writes)."""
    writer = csv.writer(_Line())
    block = ["\ufeff", writer.writerow(header)]
    size = 0
    for row in rows:
        line = writer.writerow([safe_cell(value) for value in row])
        block.append(line)
        size += len(line)
        if size >= BLOCK_CHARS:
            yield "".join(block).encode()
            block, size = [], 0
    yield "".join(block).encode()


def csv_response(file_name: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def xlsx_response(file_name: str, header: list[str], rows: Iterable[list]) -> HttpResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(safe_cell(value)) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def _xlsx_cell(value):
    # Exact amounts stay exact: written as text, like the CSV (no float anywhere).
    return value if isinstance(value, str | int) else str(value)


def keyset(queryset: QuerySet, fields: list[str], size: int = 0) -> Iterator[list[tuple]]:
    """The rows of ``queryset`` (``id`` first in ``fields``) in chunks of ``size`` (default
    ``CHUNK_ROWS``), by id."""
    size = size or CHUNK_ROWS
    queryset = queryset.order_by("id")
    # A filter that joined another table may repeat a row: DISTINCT then. Not on one table,
    # where it would only make PostgreSQL sort every chunk on all its columns.
    if sum(1 for uses in queryset.query.alias_refcount.values() if uses) > 1:
        queryset = queryset.distinct()
    last = 0
    while True:
        chunk = list(queryset.filter(id__gt=last).values_list(*fields)[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0]


@dataclass
class Export:
    header: list[str]
    rows: Iterable[list]
    #: how many rows (for the XLSX limit), counted only when asked
    count: Callable[[], int]


def _skus(company_id: int, product_ids) -> dict[int, str]:
    return dict(
        Product.objects.filter(company_id=company_id, id__in=set(product_ids)).values_list(
            "id", "sku"
        )
    )


def _warehouse_codes(company_id: int) -> dict[int, str]:
    return dict(Warehouse.objects.filter(company_id=company_id).values_list("id", "code"))


def products(company_id: int, queryset: QuerySet) -> Export:
    """Columns the products import reads back: an export re-imports unchanged."""
    warehouses = list(Warehouse.objects.filter(company_id=company_id).order_by("code"))
    header = [
        "sku",
        "name",
        "description",
        "price",
        "product_type",
        "low_stock_threshold",
        *[STOCK_PREFIX + w.code for w in warehouses],
        "total_stock",
    ]
    fields = ["id", "sku", "name", "description", "price", "product_type_id"]
    fields.append("low_stock_threshold")

    def rows():
        types = dict(ProductType.objects.filter(company_id=company_id).values_list("id", "name"))
        for chunk in keyset(queryset, fields):
            levels = {
                (p, w): q
                for p, w, q in StockLevel.objects.filter(
                    company_id=company_id, product_id__in=[row[0] for row in chunk]
                ).values_list("product_id", "warehouse_id", "quantity")
            }
            for pk, sku, name, description, price, type_id, threshold in chunk:
                stock = [levels.get((pk, w.pk)) for w in warehouses]
                total = sum(q for q in stock if q is not None)
                yield [
                    sku,
                    name,
                    description,
                    price,
                    types.get(type_id, ""),
                    threshold,
                    *stock,
                    total,
                ]

    return Export(header, rows(), queryset.distinct().count)


def _level_rows(company_id: int, queryset: QuerySet, header: list[str]) -> Export:
    """An export of rows about one stock level each: ``header`` names the model's columns,
    ``sku`` and ``warehouse`` standing for its product and warehouse (read per chunk)."""
    names = {"sku": "product_id", "warehouse": "warehouse_id"}
    fields = ["id", *[names.get(column, column) for column in header]]
    sku_at, code_at = fields.index("product_id"), fields.index("warehouse_id")

    def rows():
        codes = _warehouse_codes(company_id)
        for chunk in keyset(queryset, fields):
            skus = _skus(company_id, (row[sku_at] for row in chunk))
            for row in chunk:
                row = list(row)
                row[sku_at], row[code_at] = skus[row[sku_at]], codes[row[code_at]]
                yield row[1:]

    return Export(header, rows(), queryset.count)


def stock_levels(company_id: int, queryset: QuerySet) -> Export:
    """``queryset``: levels with what is on order (``stock_levels_with_threshold``)."""
    header = ["sku", "warehouse", "quantity", "low_stock_threshold", "on_order", "on_draft"]
    header += ["next_expected_date", "updated_at"]
    return _level_rows(company_id, queryset, header)


def ledger(company_id: int, queryset: QuerySet) -> Export:
    header = ["id", "created_at", "sku", "warehouse", "change", "quantity_after", "reason"]
    header += ["adjustment_reason", "reference_type", "reference_id", "actor_id", "note"]
    return _level_rows(company_id, queryset, header)


def sales(company_id: int, queryset: QuerySet) -> Export:
    header = ["id", "sold_at", "sku", "warehouse", "quantity", "unit_price"]
    return _level_rows(company_id, queryset, header)


ORDER_COLUMNS = [
    "number",
    "status",
    "supplier",
    "supplier_email",
    "warehouse",
    "expected_date",
    "overdue",
    "created_at",
    "ordered_at",
    "received_at",
    "order_total",
]
ORDER_LINE_COLUMNS = [
    "sku",
    "product_name",
    "quantity_ordered",
    "quantity_received",
    "quantity_remaining",
    "unit_cost",
    "line_total",
]


def purchase_orders(company_id: int, queryset: QuerySet) -> Export:
    """One row per order line, the order's columns repeated on each: what a spreadsheet
    filters, sums and pivots (units still to come per supplier, spend per product). An order
    without lines (a draft) is one row with empty line columns, so every order is listed."""
    queryset = queryset.annotate(
        overdue=ExpressionWrapper(
            purchasing_selectors.overdue_condition(), output_field=BooleanField()
        )
    )
    fields = ["id", "number", "status", "supplier_id", "warehouse_id", "expected_date"]
    fields += ["overdue", "created_at", "ordered_at", "received_at"]

    def rows():
        codes = _warehouse_codes(company_id)
        for chunk in keyset(queryset, fields, ORDERS_PER_CHUNK):
            lines: dict[int, list[PurchaseOrderLine]] = {}
            for line in PurchaseOrderLine.objects.filter(
                company_id=company_id, order_id__in=[row[0] for row in chunk]
            ).order_by("id"):
                lines.setdefault(line.order_id, []).append(line)
            products = {
                p.pk: p
                for p in Product.objects.filter(
                    company_id=company_id,
                    id__in={line.product_id for group in lines.values() for line in group},
                ).only("sku", "name")
            }
            suppliers = {
                s.pk: s
                for s in Supplier.objects.filter(
                    company_id=company_id, id__in={row[3] for row in chunk}
                ).only("name", "contact_email")
            }
            for pk, number, status, supplier_id, warehouse_id, *rest in chunk:
                supplier = suppliers[supplier_id]
                order_lines = lines.get(pk, [])
                order = [number, status, supplier.name, supplier.contact_email]
                order += [codes[warehouse_id], *rest, purchasing_selectors.order_total(order_lines)]
                if not order_lines:
                    yield order + [None] * len(ORDER_LINE_COLUMNS)
                for line in order_lines:
                    product = products[line.product_id]
                    yield [
                        *order,
                        product.sku,
                        product.name,
                        line.quantity_ordered,
                        line.quantity_received,
                        line.quantity_ordered - line.quantity_received,
                        line.unit_cost,
                        purchasing_selectors.line_total(line),
                    ]

    def count() -> int:
        orders = queryset.values("id")
        lines = PurchaseOrderLine.objects.filter(company_id=company_id, order_id__in=orders)
        without_lines = queryset.exclude(
            Exists(PurchaseOrderLine.objects.filter(company_id=company_id, order_id=OuterRef("id")))
        )
        return lines.count() + without_lines.distinct().count()

    return Export([*ORDER_COLUMNS, *ORDER_LINE_COLUMNS], rows(), count)


LOW_STOCK_COLUMNS = [
    "sku",
    "product_name",
    "warehouse_name",
    "current_stock",
    "threshold",
    "avg_daily_sales",
    "days_until_stockout",
    "lead_time_days",
    "on_order",
    "on_draft",
    "suggested_reorder_quantity",
    "stockout_before_delivery",
]


def low_stock(company_id: int, *, days: int, cover_days: int, warehouse_id=None) -> Export:
    """The low-stock report (one query, like GET …/alerts/low-stock) with its forecast."""
    page = alert_selectors.low_stock_alerts(
        company_id=company_id, now=timezone.now(), days=days, warehouse_id=warehouse_id
    )
    alerts = forecast.complete_rows(page.rows, window_days=days, cover_days=cover_days)
    header = [*LOW_STOCK_COLUMNS, "supplier_name"]

    def rows():
        for alert in alerts:
            supplier = alert.get("supplier") or {}
            yield [alert.get(column) for column in LOW_STOCK_COLUMNS] + [supplier.get("name")]

    return Export(header, rows(), lambda: page.total)
