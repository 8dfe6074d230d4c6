from django.urls import re_path

from stockflow.api.routers import Router
from stockflow.purchasing import views

router = Router()
router.register("purchase-orders", views.PurchaseOrderViewSet, basename="purchase-order")

urlpatterns = [
    re_path(
        r"^companies/(?P<company_id>\d+)/purchase-orders/from-alerts/?$",
        views.PurchaseOrdersFromAlertsView.as_view(),
        name="purchase-orders-from-alerts",
    ),
    *router.urls,
]
