"""List filters of the catalog resources (query parameters; a bad value is a 400)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from stockflow.api.filters import BooleanFilter, IdFilter
from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)


class WarehouseFilter(django_filters.FilterSet):
    company_id = IdFilter(field_name="company_id")
    code = django_filters.CharFilter(field_name="code")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    is_active = BooleanFilter(field_name="is_active")

    class Meta:
        model = Warehouse
        fields = ["company_id", "code", "name", "is_active"]


class ProductTypeFilter(django_filters.FilterSet):
    company_id = IdFilter(field_name="company_id")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = ProductType
        fields = ["company_id", "name"]


class SupplierFilter(django_filters.FilterSet):
    company_id = IdFilter(field_name="company_id")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    contact_email = django_filters.CharFilter(field_name="contact_email", lookup_expr="iexact")

    class Meta:
        model = Supplier
        fields = ["company_id", "name", "contact_email"]


class ProductFilter(django_filters.FilterSet):
    company_id = IdFilter(field_name="company_id")
    sku = django_filters.CharFilter(field_name="sku")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    q = django_filters.CharFilter(method="search", label="SKU or name contains")
    product_type_id = IdFilter(field_name="product_type_id")
    is_bundle = BooleanFilter(field_name="is_bundle")
    is_active = BooleanFilter(field_name="is_active")
    price_min = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    price_max = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    warehouse_id = IdFilter(
        field_name="stock_levels__warehouse_id", label="Has a stock level in this warehouse"
    )
    supplier_id = IdFilter(field_name="supplier_links__supplier_id", label="Bought from")

    class Meta:
        model = Product
        fields = [
            "company_id",
            "sku",
            "name",
            "q",
            "product_type_id",
            "is_bundle",
            "is_active",
            "price_min",
            "price_max",
            "warehouse_id",
            "supplier_id",
        ]

    def search(self, queryset, name, value):
        return queryset.filter(Q(sku__icontains=value) | Q(name__icontains=value))


class ProductSupplierFilter(django_filters.FilterSet):
    company_id = IdFilter(field_name="company_id")
    product_id = IdFilter(field_name="product_id")
    supplier_id = IdFilter(field_name="supplier_id")
    is_primary = BooleanFilter(field_name="is_primary")

    class Meta:
        model = ProductSupplier
        fields = ["company_id", "product_id", "supplier_id", "is_primary"]


class BundleComponentFilter(django_filters.FilterSet):
    company_id = IdFilter(field_name="company_id")
    bundle_id = IdFilter(field_name="bundle_id")
    component_id = IdFilter(field_name="component_id")

    class Meta:
        model = BundleComponent
        fields = ["company_id", "bundle_id", "component_id"]
