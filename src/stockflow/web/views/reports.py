"""Dashboard and low-stock report; draft orders for the alerts ticked on the report."""

from __future__ import annotations

import math
import uuid
from collections import Counter

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from rest_framework.exceptions import APIException, ValidationError

from stockflow.tenancy.models import Role
from stockflow.web import backend, charts, selectors
from stockflow.web.forms import Form, form_data
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


SKIPPED_REASONS = {"no_supplier": "no supplier", "nothing_to_order": "nothing to order"}


class LowStockView(CompanyPage):
    """The report, and (owners and admins) draft orders for the ticked alerts: the API's
    from-alerts service, with the report's filters and the ticked products."""

    template_name = "web/low_stock.html"
    title = "Low stock"
    section = "low_stock"
    write_role = Role.ADMIN

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
                "can_order": self.can(self.write_role),
                "idempotency_key": uuid.uuid4().hex,
            }
        )

    def post(self, request, company_id: int):
        query = {name: request.POST[name] for name in REPORT_FILTERS if request.POST.get(name)}
        # back to the report as it was shown (its filters, sort and page)
        back = reverse("web:low_stock", kwargs={"company_id": self.company_id})
        if request.POST.get("query"):
            back += "?" + request.POST["query"]
        product_ids = request.POST.getlist("product_ids")
        if not product_ids:
            messages.error(request, "Tick the alerts to order first.")
            return redirect(back)
        form = Form([], data=request.POST, idempotent=True)
        try:
            result, replayed = backend.create_orders_from_alerts(
                self.caller(),
                {**query, "product_ids": product_ids},
                key=form.idempotency_key,
                body={**form_data(request.POST), "product_ids": product_ids},
                path=request.path,
            )
        except APIException as exc:
            form.add_errors(exc)
            for message in form.non_field_errors:
                messages.error(request, message)
            return redirect(back)
        messages.success(request, self.created_message(result, replayed))
        return redirect(back)

    def created_message(self, result: dict, replayed: bool) -> str:
        """What was drafted, each order a link, and the alerts skipped with the reason."""
        orders = result["orders"]
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (
                    reverse(
                        "web:purchase_order",
                        kwargs={"company_id": self.company_id, "order_id": order["id"]},
                    ),
                    order["number"],
                )
                for order in orders
            ),
        )
        if orders:
            message = format_html(
                "{} draft order{} created: {}.", len(orders), "s" if len(orders) > 1 else "", links
            )
        else:
            message = format_html("No draft order was needed.")
        skipped = Counter(row["reason"] for row in result["skipped"])
        if skipped:
            reasons = ", ".join(f"{count} {SKIPPED_REASONS[r]}" for r, count in skipped.items())
            message = format_html("{} Alerts skipped: {}.", message, reasons)
        if replayed:
            message = format_html("{} (This form was already submitted.)", message)
        return message
