"""Catalog endpoints that touch no stock: thin views over ``catalog.services`` and
``catalog.bundle_services`` (writes), tenant-scoped by ``TenantViewSet``. Every member reads;
writes need the admin role. Warehouses, product types and products, whose writes also change
stock levels, are served by ``inventory.catalog_views`` on the same base class."""

from __future__ import annotations

from rest_framework import mixins

from stockflow.catalog import bundle_services, filters, services
from stockflow.catalog.models import BundleComponent, ProductSupplier, Supplier
from stockflow.catalog.serializers import (
    BundleComponentSerializer,
    ProductSupplierSerializer,
    SupplierSerializer,
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
        return bundle_services.add_bundle_component(**data)

    def update_object(self, instance, data):
        if "quantity" not in data:
            return instance
        return bundle_services.update_bundle_component(instance, quantity=data["quantity"])

    def delete_object(self, instance):
        bundle_services.remove_bundle_component(instance)
