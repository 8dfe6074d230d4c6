"""Query parameters of the low-stock report, and its response shape for the API schema.

The response serializers only document the JSON in the OpenAPI schema: the view builds the
JSON straight from the selector's rows, without a serializer object per alert.
"""

from __future__ import annotations

from rest_framework import serializers

from stockflow.alerts.forecast import RATE_DECIMAL_PLACES
from stockflow.api.limits import BIGINT_MAX

DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365
DEFAULT_COVER_DAYS = 30
MAX_COVER_DAYS = 365
MAX_PAGE_LIMIT = 500


class LowStockQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        default=DEFAULT_WINDOW_DAYS,
        help_text=(
            "Sales window in days: sales with now - days < sold_at <= now count "
            "(start exclusive, end inclusive)."
        ),
    )
    cover_days = serializers.IntegerField(
        min_value=0,
        max_value=MAX_COVER_DAYS,
        default=DEFAULT_COVER_DAYS,
        help_text=(
            "Days of demand the suggested reorder should cover after the supplier's lead time."
        ),
    )
    warehouse_id = serializers.IntegerField(
        min_value=1,
        max_value=BIGINT_MAX,
        required=False,
        help_text="Only this warehouse. An id outside the company yields no alerts.",
    )
    product_type_id = serializers.IntegerField(
        min_value=1,
        max_value=BIGINT_MAX,
        required=False,
        help_text="Only products of this type. An id outside the company yields no alerts.",
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PAGE_LIMIT,
        required=False,
        help_text="Page size; all alerts when absent. total_alerts always counts all alerts.",
    )
    offset = serializers.IntegerField(
        min_value=0,
        max_value=BIGINT_MAX,
        default=0,
        help_text="Alerts to skip, in report order.",
    )

    def to_internal_value(self, data):
        # Each parameter once: a repeated parameter is ambiguous, not "the last one wins".
        getlist = getattr(data, "getlist", None)
        if getlist is not None:
            repeated = {
                name: ["Give this parameter once."]
                for name in self.fields
                if len(getlist(name)) > 1
            }
            if repeated:
                raise serializers.ValidationError(repeated)
            # A plain mapping: "?days=" is then an invalid value, not a missing one.
            data = {name: data[name] for name in data}
        return super().to_internal_value(data)


class AlertSupplierSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    contact_email = serializers.CharField(help_text="May be empty.")


class LowStockAlertSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
    sku = serializers.CharField()
    warehouse_id = serializers.IntegerField()
    warehouse_name = serializers.CharField()
    current_stock = serializers.IntegerField(help_text="Units in stock in this warehouse.")
    threshold = serializers.IntegerField(
        help_text="The product's low-stock threshold, else its product type's."
    )
    days_until_stockout = serializers.IntegerField(
        help_text="floor(current_stock / avg_daily_sales), computed exactly."
    )
    supplier = AlertSupplierSerializer(
        allow_null=True,
        help_text=(
            "The primary supplier, else the shortest lead time (then lowest unit cost, then "
            "lowest id); null without supplier."
        ),
    )
    units_sold = serializers.IntegerField(
        help_text="Units sold here in the window, bundle sales counted as their components."
    )
    avg_daily_sales = serializers.DecimalField(
        max_digits=None,
        decimal_places=RATE_DECIMAL_PLACES,
        help_text="units_sold / window_days, rounded half-up.",
    )
    lead_time_days = serializers.IntegerField(
        allow_null=True,
        help_text=(
            "The supplier's lead time: observed (average days from ordered to received over "
            "its last received orders) once 3 orders were received, else configured; null "
            "without supplier."
        ),
    )
    on_order = serializers.IntegerField(
        help_text="Units still to come on ordered or partly received orders to this warehouse."
    )
    on_draft = serializers.IntegerField(help_text="Units on draft orders to this warehouse.")
    next_expected_date = serializers.DateField(
        allow_null=True, help_text="Earliest expected date of an order still to come."
    )
    suggested_reorder_quantity = serializers.IntegerField(
        help_text=(
            "max(0, ceil(S - current_stock - on_order - on_draft)) with the order-up-to "
            "level S = threshold + units_sold / window_days * (lead_time_days + cover_days), "
            "exact; the lead time counts as 0 without supplier."
        )
    )
    stockout_before_delivery = serializers.BooleanField(
        help_text="days_until_stockout < lead_time_days: ordering now is already late."
    )


class LowStockReportSerializer(serializers.Serializer):
    alerts = LowStockAlertSerializer(many=True, help_text="Most urgent first.")
    total_alerts = serializers.IntegerField(help_text="All alerts, whatever the page.")
    window_days = serializers.IntegerField()
    cover_days = serializers.IntegerField()
    as_of = serializers.DateTimeField(help_text="End of the sales window (inclusive).")
    limit = serializers.IntegerField(allow_null=True)
    offset = serializers.IntegerField()
