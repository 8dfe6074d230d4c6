from django.urls import re_path

from stockflow.catalog.filters import ProductFilter
from stockflow.catalog.models import Product
from stockflow.dataio import exports, views
from stockflow.inventory import selectors as inventory_selectors
from stockflow.inventory.filters import LedgerEntryFilter, SaleFilter, StockLevelFilter
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel
from stockflow.purchasing.filters import PurchaseOrderFilter
from stockflow.purchasing.models import PurchaseOrder

EXPORTS = [
    (
        "products",
        ProductFilter,
        Product.objects.all,
        exports.products,
        "Products, their stock per warehouse and in all; re-imports unchanged.",
    ),
    (
        "stock_levels",
        StockLevelFilter,
        # What GET /api/stock-levels reads: threshold and what is on order.
        lambda: inventory_selectors.stock_levels_with_threshold(StockLevel.objects.all()),
        exports.stock_levels,
        "Stock levels with their threshold and what is on order (and on draft orders).",
    ),
    (
        "ledger",
        LedgerEntryFilter,
        LedgerEntry.objects.all,
        exports.ledger,
        "Ledger entries (date range, product, warehouse, reason filters).",
    ),
    ("sales", SaleFilter, Sale.objects.all, exports.sales, "Sales."),
    (
        "purchase_orders",
        PurchaseOrderFilter,
        PurchaseOrder.objects.all,
        exports.purchase_orders,
        "Purchase orders, one row per line with its order's columns (an order without lines: "
        "one row); the filters of GET /api/purchase-orders.",
    ),
]

urlpatterns = [
    re_path(r"^imports/?$", views.ImportUploadView.as_view(), name="import-upload"),
    re_path(r"^imports/(?P<pk>\d+)/?$", views.ImportJobView.as_view(), name="import-detail"),
    re_path(r"^imports/(?P<pk>\d+)/apply/?$", views.ImportApplyView.as_view(), name="import-apply"),
    re_path(
        r"^imports/(?P<pk>\d+)/errors/?$", views.ImportErrorsView.as_view(), name="import-errors"
    ),
    *[
        re_path(
            rf"^companies/(?P<company_id>\d+)/exports/{name}/?$",
            views.export_view(name, filterset, rows, build, doc).as_view(),
            name=f"export-{name.replace('_', '-')}",
        )
        for name, filterset, rows, build, doc in EXPORTS
    ],
    re_path(
        r"^companies/(?P<company_id>\d+)/exports/low_stock/?$",
        views.LowStockExportView.as_view(),
        name="export-low-stock",
    ),
]
