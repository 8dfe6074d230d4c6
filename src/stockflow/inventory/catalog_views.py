"""The catalog endpoints whose writes change stock levels too: warehouses (a delete takes
its empty levels), product types (a threshold is copied to the levels) and products (the
opening stock, the levels of a delete, thresholds, bundles; each product shown with its
stock). Same base class and rules as ``catalog.views``; the writes are
``inventory.catalog_stock``, the reads ``inventory.selectors``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from stockflow.api.idempotency import run_idempotent
from stockflow.api.schema import IDEMPOTENCY_PARAMETER
from stockflow.catalog import filters, services
from stockflow.catalog.models import Product, ProductType, Warehouse
from stockflow.catalog.serializers import (
    ProductCreateSerializer,
    ProductSerializer,
    ProductTypeSerializer,
    WarehouseSerializer,
)
from stockflow.catalog.views import CatalogViewSet
from stockflow.inventory import catalog_stock, selectors


class WarehouseViewSet(CatalogViewSet):
    """Warehouses. One that has held stock cannot be deleted (409 ``has_history``):
    deactivate it with ``is_active=false``."""

    queryset = Warehouse.objects.all()
    serializer_class = WarehouseSerializer
    filterset_class = filters.WarehouseFilter
    ordering_fields = ["id", "code", "name", "created_at"]

    def create_object(self, data):
        return services.create_warehouse(**data)

    def update_object(self, instance, data):
        return services.update_warehouse(instance, **data)

    def delete_object(self, instance):
        catalog_stock.delete_warehouse(instance)


class ProductTypeViewSet(CatalogViewSet):
    """Product types and their default low-stock threshold."""

    queryset = ProductType.objects.all()
    serializer_class = ProductTypeSerializer
    filterset_class = filters.ProductTypeFilter
    ordering_fields = ["id", "name", "created_at"]

    def create_object(self, data):
        return services.create_product_type(**data)

    def update_object(self, instance, data):
        return catalog_stock.update_product_type(instance, **data)

    def delete_object(self, instance):
        services.delete_product_type(instance)


class ProductViewSet(CatalogViewSet):
    """Products with their stock per warehouse (bundles: units that can be assembled)."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = filters.ProductFilter
    ordering_fields = ["id", "sku", "name", "price", "created_at", "updated_at"]

    def refine_queryset(self, queryset):
        return selectors.products_for_display(queryset)

    def get_serializer_class(self):
        return ProductCreateSerializer if self.action == "create" else ProductSerializer

    def represent(self, products, *, many: bool = False):
        """Serialized products; the availability of the bundles among them in one query."""
        listed = products if many else [products]
        bundles = [p for p in listed if p.is_bundle]
        availability = selectors.bundle_availability(
            [p.pk for p in bundles], company_ids={p.company_id for p in bundles}
        )
        context = {**self.get_serializer_context(), "bundle_availability": availability}
        return ProductSerializer(products, many=many, context=context).data

    def displayed(self, pk: int) -> Product:
        return self.get_queryset().get(pk=pk)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.represent(page, many=True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self.represent(self.get_object()))

    @extend_schema(
        request=ProductCreateSerializer,
        responses={201: ProductSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def create(self, request, *args, **kwargs):
        """Create a product with its initial stock in one warehouse (SPEC §3.1): the product,
        its stock level and the ``initial`` ledger entry in one transaction. Safe to retry
        with an ``Idempotency-Key`` header."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self.tenant.require(data["company_id"], self.required_role())

        def create_with_stock() -> Response:
            product = catalog_stock.create_product(actor=request.user, **data)
            return Response(
                self.represent(self.displayed(product.pk)), status=status.HTTP_201_CREATED
            )

        return run_idempotent(request, data["company_id"], create_with_stock)

    @extend_schema(request=ProductSerializer, responses=ProductSerializer)
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        product = self.get_object()
        serializer = self.get_serializer(product, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        catalog_stock.update_product(product, **serializer.validated_data)
        return Response(self.represent(self.displayed(product.pk)))

    def delete_object(self, instance):
        catalog_stock.delete_product(instance)
