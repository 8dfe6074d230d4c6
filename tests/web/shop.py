"""A small company for the web tests, built through the services like real data: two
warehouses, a product type with a threshold, products with stock, suppliers with costs, and
sales spread over the last days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from stockflow.catalog import services as catalog
from stockflow.catalog.models import Product, ProductType, Supplier, Warehouse
from stockflow.inventory import catalog_stock
from stockflow.inventory.sales import record_sale
from stockflow.tenancy.models import Company


@dataclass
class Shop:
    company: Company
    main: Warehouse
    east: Warehouse
    mugs: ProductType
    supplier: Supplier
    products: list[Product] = field(default_factory=list)

    @property
    def mug(self) -> Product:
        return self.products[0]


def build_shop(company: Company, *, sales_days: int = 0, prefix: str = "") -> Shop:
    prefix = prefix or f"C{company.pk}"
    main = catalog.create_warehouse(company=company, name="Main Warehouse", code="MAIN")
    east = catalog.create_warehouse(company=company, name="East Depot", code="EAST")
    mugs = catalog.create_product_type(company=company, name="Mugs", low_stock_threshold=10)
    supplier = catalog.create_supplier(
        company=company, name="Ceramica Ltd", contact_email="orders@ceramica.example"
    )
    cheap = catalog.create_supplier(company=company, name="Budget Pots")
    shop = Shop(company, main, east, mugs, supplier)
    for index, (name, quantity) in enumerate(
        [("Harbor Mug", 40), ("Alpine Mug", 25), ("Velvet Mug", 0)], start=1
    ):
        product = catalog_stock.create_product(
            company_id=company.pk,
            name=name,
            sku=f"{prefix}-MUG-{index}",
            price=Decimal("12.50"),
            product_type=mugs,
            warehouse=main,
            initial_quantity=quantity,
        )
        shop.products.append(product)
    # Primary supplier at 4.00 for the first mug; only a cheaper non-primary one for the
    # second; the third has no cost at all.
    catalog.link_supplier(
        product=shop.products[0], supplier=supplier, unit_cost=Decimal("4.00"), is_primary=True
    )
    catalog.link_supplier(product=shop.products[0], supplier=cheap, unit_cost=Decimal("3.00"))
    catalog.link_supplier(product=shop.products[1], supplier=supplier, unit_cost=Decimal("6.00"))
    catalog.link_supplier(product=shop.products[1], supplier=cheap, unit_cost=Decimal("5.00"))
    now = timezone.now()
    for day in range(sales_days):
        for product in shop.products[:2]:
            record_sale(
                product=product,
                warehouse=main,
                quantity=1,
                sold_at=now - timedelta(days=day, hours=1),
            )
    return shop
