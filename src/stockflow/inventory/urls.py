from django.urls import re_path

from stockflow.api.routers import Router
from stockflow.inventory import catalog_views, views

router = Router()
router.register("warehouses", catalog_views.WarehouseViewSet, basename="warehouse")
router.register("product-types", catalog_views.ProductTypeViewSet, basename="product-type")
router.register("products", catalog_views.ProductViewSet, basename="product")
router.register("stock-levels", views.StockLevelViewSet, basename="stock-level")
router.register("stock/movements", views.MovementViewSet, basename="stock-movement")
router.register("ledger", views.LedgerViewSet, basename="ledger-entry")
router.register("sales", views.SaleViewSet, basename="sale")
router.register("events", views.StockEventViewSet, basename="stock-event")

urlpatterns = [
    re_path(r"^stock/receipts/?$", views.ReceiptView.as_view(), name="stock-receipt"),
    re_path(r"^stock/adjustments/?$", views.AdjustmentView.as_view(), name="stock-adjustment"),
    re_path(r"^stock/transfers/?$", views.TransferView.as_view(), name="stock-transfer"),
    re_path(
        r"^products/(?P<product_id>\d+)/stock/?$",
        views.ProductStockView.as_view(),
        name="product-stock",
    ),
    *router.urls,
]
