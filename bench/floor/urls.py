from django.urls import path

from bench.floor.views import floor_low_stock_alerts, floor_sale
from stockflow.urls import urlpatterns as stockflow_urlpatterns

urlpatterns = [
    path("bench/floor/sale", floor_sale, name="bench-floor-sale"),
    path(
        "bench/floor/companies/<int:company_id>/alerts/low-stock",
        floor_low_stock_alerts,
        name="bench-floor-low-stock-alerts",
    ),
    *stockflow_urlpatterns,
]
