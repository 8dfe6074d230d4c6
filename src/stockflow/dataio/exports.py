"""Exports: a company's products, stock levels, ledger, sales and low-stock report as CSV
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

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from stockflow.alerts import forecast
from stockflow.alerts import selectors as alert_selectors
from stockflow.catalog.models import Product, ProductType, Warehouse
from stockflow.dataio.importers import STOCK_PREFIX
from stockflow.inventory.models import StockLevel

CHUNK_ROWS = 2000
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
    writer = csv.writer(_Line())
    yield "\ufeff".encode() + writer.writerow(header).encode()
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row]).encode()


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


def keyset(queryset: QuerySet, fields: list[str]) -> Iterator[list[tuple]]:
    """The rows of ``queryset`` (``id`` first in ``fields``) in chunks, by id."""
    last = 0
    while True:
        chunk = list(
            queryset.filter(id__gt=last).order_by("id").distinct().values_list(*fields)[:CHUNK_ROWS]
        )
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
    header = ["sku", "warehouse", "quantity", "low_stock_threshold", "updated_at"]
    return _level_rows(company_id, queryset, header)


def ledger(company_id: int, queryset: QuerySet) -> Export:
    header = ["id", "created_at", "sku", "warehouse", "change", "quantity_after", "reason"]
    header += ["adjustment_reason", "reference_type", "reference_id", "actor_id", "note"]
    return _level_rows(company_id, queryset, header)


def sales(company_id: int, queryset: QuerySet) -> Export:
    header = ["id", "sold_at", "sku", "warehouse", "quantity", "unit_price"]
    return _level_rows(company_id, queryset, header)


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
