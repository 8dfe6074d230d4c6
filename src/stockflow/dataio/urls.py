from django.urls import re_path

from stockflow.catalog.filters import ProductFilter
from stockflow.catalog.models import Product
from stockflow.dataio import exports, views
from stockflow.inventory.filters import LedgerEntryFilter, SaleFilter, StockLevelFilter
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel

EXPORTS = [
    (
        "products",
        ProductFilter,
        Product,
        exports.products,
        "Products, their stock per warehouse and in all; re-imports unchanged.",
    ),
    (
        "stock_levels",
        StockLevelFilter,
        StockLevel,
        exports.stock_levels,
        "Stock levels with their threshold.",
    ),
    (
        "ledger",
        LedgerEntryFilter,
        LedgerEntry,
        exports.ledger,
        "Ledger entries (date range, product, warehouse, reason filters).",
    ),
    ("sales", SaleFilter, Sale, exports.sales, "Sales."),
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
            views.export_view(name, filterset, model, build, doc).as_view(),
            name=f"export-{name.replace('_', '-')}",
        )
        for name, filterset, model, build, doc in EXPORTS
    ],
    re_path(
        r"^companies/(?P<company_id>\d+)/exports/low_stock/?$",
        views.LowStockExportView.as_view(),
        name="export-low-stock",
    ),
]
