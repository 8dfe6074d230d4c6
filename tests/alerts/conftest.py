"""Builders for low-stock report tests: catalog and stock rows written straight with the ORM."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.inventory.models import Sale
from stockflow.inventory.movements import record_initial_stock
from stockflow.tenancy.models import Company
from tests.factories import Tenant

_seq = count(1)


def report_url(company_id: int) -> str:
    return f"/api/companies/{company_id}/alerts/low-stock"


class Shop:
    """One company's catalog, stock and sales, built row by row."""

    def __init__(self, company: Company) -> None:
        self.company = company

    def warehouse(self, name: str = "Main", *, active: bool = True) -> Warehouse:
        return Warehouse.objects.create(
            company=self.company, name=name, code=f"W{next(_seq)}", is_active=active
        )

    def product_type(self, name: str = "Goods", threshold: int | None = None) -> ProductType:
        return ProductType.objects.create(
            company=self.company, name=f"{name} {next(_seq)}", low_stock_threshold=threshold
        )

    def product(
        self,
        name: str = "Widget",
        *,
        threshold: int | None = None,
        product_type: ProductType | None = None,
        bundle: bool = False,
        active: bool = True,
    ) -> Product:
        return Product.objects.create(
            company=self.company,
            name=name,
            sku=f"SKU-{next(_seq):06d}",
            price=Decimal("9.99"),
            product_type=product_type,
            low_stock_threshold=threshold,
            is_bundle=bundle,
            is_active=active,
        )

    def stock(self, product: Product, warehouse: Warehouse, quantity: int) -> None:
        record_initial_stock(product=product, warehouse=warehouse, quantity=quantity)

    def sale(
        self,
        product: Product,
        warehouse: Warehouse,
        quantity: int,
        *,
        days_ago: float = 1,
        at: datetime | None = None,
    ) -> Sale:
        sold_at = at if at is not None else timezone.now() - timedelta(days=days_ago)
        return Sale.objects.create(
            company=self.company,
            product=product,
            warehouse=warehouse,
            quantity=quantity,
            unit_price=Decimal("9.99"),
            sold_at=sold_at,
        )

    def supplier(self, name: str = "Supplier", email: str = "") -> Supplier:
        return Supplier.objects.create(
            company=self.company, name=name, contact_email=email or f"s{next(_seq)}@example.com"
        )

    def supply(
        self,
        product: Product,
        supplier: Supplier,
        *,
        lead_time_days: int = 7,
        unit_cost: str | None = "1.00",
        primary: bool = False,
    ) -> ProductSupplier:
        return ProductSupplier.objects.create(
            company=self.company,
            product=product,
            supplier=supplier,
            lead_time_days=lead_time_days,
            unit_cost=None if unit_cost is None else Decimal(unit_cost),
            is_primary=primary,
        )

    def component(self, bundle: Product, component: Product, quantity: int) -> None:
        BundleComponent.objects.create(
            company=self.company, bundle=bundle, component=component, quantity=quantity
        )


@pytest.fixture
def shop(tenant_a: Tenant) -> Shop:
    return Shop(tenant_a.company)


@pytest.fixture
def other_shop(tenant_b: Tenant) -> Shop:
    return Shop(tenant_b.company)


@pytest.fixture
def fetch_report(tenant_a: Tenant):
    """GET the report of tenant A as its viewer; returns the JSON body of a 200."""

    def fetch(client=None, company_id: int | None = None, **params) -> dict:
        client = client or tenant_a.viewer
        response = client.get(report_url(company_id or tenant_a.company.pk), params)
        assert response.status_code == 200, response.content[:500]
        return response.json()

    return fetch
