from django.urls import re_path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from stockflow.alerts.serializers import LowStockQuerySerializer
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

low_stock_view = extend_schema(
    operation_id="export_low_stock",
    parameters=[
        OpenApiParameter("company_id", int, OpenApiParameter.PATH),
        views.EXPORT_FORMAT,
        LowStockQuerySerializer,
    ],
    responses={
        (200, "text/csv"): str,
        (200, exports.XLSX_TYPE): bytes,
        400: OpenApiResponse(description="A query parameter is invalid."),
        404: OpenApiResponse(description="No such company among the caller's companies."),
    },
    tags=["exports"],
)(views.LowStockExportView)

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
        low_stock_view.as_view(),
        name="export-low-stock",
    ),
]
