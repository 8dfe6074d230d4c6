"""Catalog endpoints: thin views over ``catalog.services`` (writes) and ``catalog.selectors``
(reads), tenant-scoped by ``TenantViewSet``. Every member reads; writes need the admin role."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from stockflow.api.idempotency import run_idempotent
from stockflow.api.schema import IDEMPOTENCY_PARAMETER
from stockflow.catalog import filters, selectors, services
from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.catalog.serializers import (
    BundleComponentSerializer,
    ProductCreateSerializer,
    ProductSerializer,
    ProductSupplierSerializer,
    ProductTypeSerializer,
    SupplierSerializer,
    WarehouseSerializer,
)
from stockflow.tenancy.scoping import TenantViewSet


class CatalogViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """List, read, create, update, delete one catalog resource. A create is allowed in a
    company where the caller has ``write_role``: another company's id is a 404, a member
    with a lower role gets 403. Subclasses say which company a new object belongs to and
    which service writes it."""

    ordering = ["id"]

    def company_of_new(self, data: dict) -> int:
        return data["company"].pk

    def perform_create(self, serializer) -> None:
        self.tenant.require(self.company_of_new(serializer.validated_data), self.required_role())
        serializer.instance = self.create_object(serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = self.update_object(serializer.instance, serializer.validated_data)

    def perform_destroy(self, instance) -> None:
        self.delete_object(instance)

    def create_object(self, data: dict):
        raise NotImplementedError

    def update_object(self, instance, data: dict):
        raise NotImplementedError

    def delete_object(self, instance) -> None:
        raise NotImplementedError


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
        services.delete_warehouse(instance)


class ProductTypeViewSet(CatalogViewSet):
    """Product types and their default low-stock threshold."""

    queryset = ProductType.objects.all()
    serializer_class = ProductTypeSerializer
    filterset_class = filters.ProductTypeFilter
    ordering_fields = ["id", "name", "created_at"]

    def create_object(self, data):
        return services.create_product_type(**data)

    def update_object(self, instance, data):
        return services.update_product_type(instance, **data)

    def delete_object(self, instance):
        services.delete_product_type(instance)


class SupplierViewSet(CatalogViewSet):
    """Suppliers. Deleting one removes its links to products."""

    queryset = Supplier.objects.all()
    serializer_class = SupplierSerializer
    filterset_class = filters.SupplierFilter
    ordering_fields = ["id", "name", "created_at"]

    def create_object(self, data):
        return services.create_supplier(**data)

    def update_object(self, instance, data):
        return services.update_supplier(instance, **data)

    def delete_object(self, instance):
        services.delete_supplier(instance)


class ProductSupplierViewSet(CatalogViewSet):
    """Which supplier sells which product, at what cost and lead time. At most one primary
    supplier per product: making a link primary unsets the other one."""

    queryset = ProductSupplier.objects.all()
    serializer_class = ProductSupplierSerializer
    filterset_class = filters.ProductSupplierFilter
    ordering_fields = ["id", "unit_cost", "lead_time_days", "created_at"]

    def company_of_new(self, data):
        return data["product"].company_id

    def create_object(self, data):
        return services.link_supplier(**data)

    def update_object(self, instance, data):
        return services.update_supplier_link(instance, **data)

    def delete_object(self, instance):
        services.unlink_supplier(instance)


class BundleComponentViewSet(CatalogViewSet):
    """Lines of bundles: ``quantity`` units of ``component_id`` in one ``bundle_id``."""

    queryset = BundleComponent.objects.all()
    serializer_class = BundleComponentSerializer
    filterset_class = filters.BundleComponentFilter
    ordering_fields = ["id", "quantity"]

    def refine_queryset(self, queryset):
        return queryset.select_related("component")

    def company_of_new(self, data):
        return data["bundle"].company_id

    def create_object(self, data):
        return services.add_bundle_component(**data)

    def update_object(self, instance, data):
        if "quantity" not in data:
            return instance
        return services.update_bundle_component(instance, quantity=data["quantity"])

    def delete_object(self, instance):
        services.remove_bundle_component(instance)


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
        availability = selectors.bundle_availability([p.pk for p in listed if p.is_bundle])
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
            product = services.create_product(actor=request.user, **data)
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
        services.update_product(product, **serializer.validated_data)
        return Response(self.represent(self.displayed(product.pk)))

    def delete_object(self, instance):
        services.delete_product(instance)
