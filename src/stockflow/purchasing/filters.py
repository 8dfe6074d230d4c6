"""Query-string filters of the purchase order list (a bad value is a 400)."""

from __future__ import annotations

import django_filters
from django.db.models import F

from stockflow.api.filters import BooleanFilter, IdFilter
from stockflow.purchasing import selectors
from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderStatus


class PurchaseOrderFilter(django_filters.FilterSet):
    company_id = IdFilter()
    status = django_filters.MultipleChoiceFilter(choices=PurchaseOrderStatus.choices)
    supplier_id = IdFilter()
    warehouse_id = IdFilter()
    product_id = IdFilter(method="filter_product", label="Has a line of this product")
    expected_before = django_filters.DateFilter(field_name="expected_date", lookup_expr="lt")
    expected_after = django_filters.DateFilter(field_name="expected_date", lookup_expr="gte")
    overdue = BooleanFilter(
        method="filter_overdue",
        label="Still expected (ordered or partly received) and past the expected date.",
    )

    class Meta:
        model = PurchaseOrder
        fields = [
            "company_id",
            "status",
            "supplier_id",
            "warehouse_id",
            "product_id",
            "expected_before",
            "expected_after",
            "overdue",
        ]

    def filter_product(self, queryset, name, value):
        # One line per product and order: the join repeats no order.
        return queryset.filter(lines__product_id=value, lines__company_id=F("company_id"))

    def filter_overdue(self, queryset, name, value):
        condition = selectors.overdue_condition()
        return queryset.filter(condition) if value else queryset.exclude(condition)
