"""Query-string filters of the inventory lists."""

from __future__ import annotations

import django_filters

from stockflow.api.filters import BooleanFilter, DateTimeFilter, IdFilter
from stockflow.inventory import selectors
from stockflow.inventory.models import (
    AdjustmentReason,
    LedgerEntry,
    LedgerReason,
    MovementKind,
    ReferenceType,
    Sale,
    StockEvent,
    StockEventType,
    StockLevel,
    StockMovement,
)


class StockLevelFilter(django_filters.FilterSet):
    company_id = IdFilter()
    product_id = IdFilter()
    warehouse_id = IdFilter()
    below_threshold = BooleanFilter(
        method="filter_below_threshold",
        label="Only levels below (true) or not below (false) their effective threshold.",
    )

    class Meta:
        model = StockLevel
        fields = ["company_id", "product_id", "warehouse_id", "below_threshold"]

    def filter_below_threshold(self, queryset, name, value):
        return selectors.below_threshold(queryset, value)


class LedgerEntryFilter(django_filters.FilterSet):
    company_id = IdFilter()
    product_id = IdFilter()
    warehouse_id = IdFilter()
    stock_level_id = IdFilter()
    reason = django_filters.ChoiceFilter(choices=LedgerReason.choices)
    adjustment_reason = django_filters.ChoiceFilter(choices=AdjustmentReason.choices)
    reference_type = django_filters.ChoiceFilter(choices=ReferenceType.choices)
    reference_id = IdFilter()
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = LedgerEntry
        fields = [
            "company_id",
            "product_id",
            "warehouse_id",
            "stock_level_id",
            "reason",
            "adjustment_reason",
            "reference_type",
            "reference_id",
            "created_after",
            "created_before",
        ]


class SaleFilter(django_filters.FilterSet):
    company_id = IdFilter()
    product_id = IdFilter()
    warehouse_id = IdFilter()
    sold_after = DateTimeFilter(field_name="sold_at", lookup_expr="gte")
    sold_before = DateTimeFilter(field_name="sold_at", lookup_expr="lt")

    class Meta:
        model = Sale
        fields = ["company_id", "product_id", "warehouse_id", "sold_after", "sold_before"]


class MovementFilter(django_filters.FilterSet):
    company_id = IdFilter()
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)
    product_id = IdFilter()
    warehouse_id = IdFilter(method="filter_warehouse")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = StockMovement
        fields = [
            "company_id",
            "kind",
            "product_id",
            "warehouse_id",
            "created_after",
            "created_before",
        ]

    def filter_warehouse(self, queryset, name, value):
        # A transfer concerns both of its warehouses.
        return queryset.filter(warehouse_id=value) | queryset.filter(to_warehouse_id=value)


class StockEventFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=StockEventType.choices)
    product_id = IdFilter()
    warehouse_id = IdFilter()
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = StockEvent
        fields = ["type", "product_id", "warehouse_id", "created_after", "created_before"]
