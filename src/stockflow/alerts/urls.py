from django.urls import re_path

from stockflow.alerts import views

urlpatterns = [
    re_path(
        r"^companies/(?P<company_id>\d+)/alerts/low-stock/?$",
        views.LowStockAlertsView.as_view(),
        name="low-stock-alerts",
    ),
]
