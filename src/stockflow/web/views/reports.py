"""Dashboard and low-stock report."""

from __future__ import annotations

import math

from django.utils import timezone
from rest_framework.exceptions import ValidationError

from stockflow.web import backend, charts, selectors
from stockflow.web.views.base import CompanyPage, page_number

DASHBOARD_ALERTS = 10
LOW_STOCK_PAGE_SIZE = 25
REPORT_FILTERS = ("days", "cover_days", "warehouse_id", "product_type_id")

# sort key → (label, row key); "urgency" is the report's own order (SPEC §3.2)
LOW_STOCK_SORTS = {
    "urgency": ("Most urgent first", None),
    "sku": ("SKU", "sku"),
    "product": ("Product", "product_name"),
    "warehouse": ("Warehouse", "warehouse_name"),
    "stock": ("Stock", "current_stock"),
    "reorder": ("Suggested reorder, largest first", "suggested_reorder_quantity"),
}


class DashboardView(CompanyPage):
    template_name = "web/dashboard.html"
    title = "Dashboard"
    section = "dashboard"

    def get(self, request, company_id: int):
        warehouses = selectors.active_warehouses(self.company_id)
        warehouse_id = self.int_param("warehouse", {w.id for w in warehouses})
        series = selectors.units_sold_per_day(
            self.company_id, now=timezone.now(), warehouse_id=warehouse_id
        )
        chart_context = {
            "chart": charts.daily_bars(series),
            "warehouses": warehouses,
            "warehouse_id": warehouse_id,
        }
        if request.htmx:
            return self.render(chart_context, template="web/_sales_chart.html")
        alerts, total_alerts, _, _ = backend.low_stock_report(
            company_id=self.company_id, query={}, limit=DASHBOARD_ALERTS
        )
        return self.render(
            {
                **chart_context,
                "counts": selectors.dashboard_counts(self.company_id),
                "stock_value": selectors.stock_value(self.company_id),
                "alerts": alerts,
                "total_alerts": total_alerts,
            }
        )


class LowStockView(CompanyPage):
    template_name = "web/low_stock.html"
    title = "Low stock"
    section = "low_stock"

    def get(self, request, company_id: int):
        query = {name: request.GET[name] for name in REPORT_FILTERS if request.GET.get(name)}
        sort = request.GET.get("sort", "urgency")
        if sort not in LOW_STOCK_SORTS:
            sort = "urgency"
        number = page_number(request)
        errors: dict = {}
        rows, total, params = [], 0, {}
        try:
            if sort == "urgency":
                offset = (number - 1) * LOW_STOCK_PAGE_SIZE
                rows, total, params, _ = backend.low_stock_report(
                    company_id=self.company_id,
                    query=query,
                    limit=LOW_STOCK_PAGE_SIZE,
                    offset=offset,
                )
            else:
                # Another order needs every alert: sorted here, then paged.
                rows, total, params, _ = backend.low_stock_report(
                    company_id=self.company_id, query=query, limit=None
                )
                key = LOW_STOCK_SORTS[sort][1]
                rows.sort(key=lambda row: row[key], reverse=sort == "reorder")
                start = (number - 1) * LOW_STOCK_PAGE_SIZE
                rows = rows[start : start + LOW_STOCK_PAGE_SIZE]
        except ValidationError as exc:
            errors = {name: [str(m) for m in messages] for name, messages in exc.detail.items()}
        pages = max(1, math.ceil(total / LOW_STOCK_PAGE_SIZE))
        filters = {name: request.GET.get(name) or params.get(name, "") for name in REPORT_FILTERS}
        return self.render(
            {
                "rows": rows,
                "total": total,
                "params": params,
                "filters": filters,
                "errors": errors,
                "warehouses": selectors.warehouses(self.company_id),
                "product_types": selectors.product_types(self.company_id),
                "sort": sort,
                "sorts": [(key, label) for key, (label, _) in LOW_STOCK_SORTS.items()],
                "page": number,
                "pages": pages,
                "previous_page": number - 1 if number > 1 else None,
                "next_page": number + 1 if number < pages else None,
            }
        )
