"""Load a realistic demo, idempotently, and print a token to explore it with.

Two companies with several warehouses, about 100 products with types and thresholds,
suppliers, a few bundles, 90 days of sales, so the low-stock report has something to say, and
purchase orders in every status (received ones with an observed lead time).
Stock goes through the inventory services, so the ledger is exact from the first entry.
"""

from __future__ import annotations

import contextlib
import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.inventory.movements import receive_stock, record_initial_stock
from stockflow.inventory.operations import InsufficientStock
from stockflow.inventory.sales import record_sale
from stockflow.purchasing import services as purchasing
from stockflow.purchasing.models import PurchaseOrder
from stockflow.tenancy import dbcontext
from stockflow.tenancy.models import ApiToken, Company, Membership, Role
from stockflow.tenancy.services import issue_token, revoke_token

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-change-me"
SEED = 20261121
HISTORY_DAYS = 90

COMPANIES = [
    {
        "name": "Northwind Supplies",
        "warehouses": [
            ("MAIN", "Main Warehouse", "1 Harbour Road, Leeds"),
            ("EAST", "East Depot", "22 Canal Street, Hull"),
            ("WEST", "West Depot", "5 Mill Lane, Bristol"),
        ],
        "types": [("Mugs", 20), ("Coffee", 40), ("Tea", 30), ("Accessories", 10)],
        "items": {
            "Mugs": "Mug",
            "Coffee": "Coffee Blend",
            "Tea": "Tea Tin",
            "Accessories": "Filter Set",
        },
        "suppliers": [
            ("Ceramica Ltd", "orders@ceramica.example", 12),
            ("Bean Brokers", "sales@beanbrokers.example", 5),
            ("Leaf & Co", "hello@leafco.example", 9),
        ],
        "prefix": "NW",
        "products": 60,
    },
    {
        "name": "Blue Harbor Coffee",
        "warehouses": [
            ("PORT", "Port Warehouse", "8 Quay Street, Portland"),
            ("CITY", "City Store Room", "310 Pine Street, Portland"),
        ],
        "types": [("Beans", 50), ("Equipment", 5), ("Syrups", 15)],
        "items": {"Beans": "Bean Bag", "Equipment": "Grinder", "Syrups": "Syrup"},
        "suppliers": [
            ("Roast Masters", "orders@roastmasters.example", 4),
            ("Brew Gear Inc", "supply@brewgear.example", 21),
        ],
        "prefix": "BH",
        "products": 40,
    },
]

ADJECTIVES = [
    "Classic",
    "Midnight",
    "Golden",
    "Alpine",
    "Harbor",
    "Rustic",
    "Velvet",
    "Sunrise",
    "Smoky",
    "Citrus",
    "Emerald",
    "Copper",
]


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print a token for the demo user."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000", help="Port used in the printed examples.")

    def handle(self, *args, port: str, **options):
        with dbcontext.maintenance():  # loads two companies
            self._load(port)

    def _load(self, port: str) -> None:
        user = self._demo_user()
        for spec in COMPANIES:
            if Company.objects.filter(name=spec["name"], memberships__user=user).exists():
                self.stdout.write(f"Demo company {spec['name']!r} already loaded.")
                continue
            self._load_company(spec, user, random.Random(f"{SEED}-{spec['prefix']}"))
            self.stdout.write(f"Loaded demo company {spec['name']!r}.")
        self._print_tour(user, port)

    def _demo_user(self):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo@stockflow.example"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    @transaction.atomic
    def _load_company(self, spec: dict, user, rng: random.Random) -> None:
        company = Company.objects.create(name=spec["name"])
        Membership.objects.create(user=user, company=company, role=Role.OWNER)
        warehouses = [
            Warehouse.objects.create(company=company, code=code, name=name, address=address)
            for code, name, address in spec["warehouses"]
        ]
        types = [
            ProductType.objects.create(company=company, name=name, low_stock_threshold=threshold)
            for name, threshold in spec["types"]
        ]
        suppliers = [
            (
                Supplier.objects.create(
                    company=company,
                    name=name,
                    contact_email=email,
                    phone=f"+44 20 7946 {rng.randint(1000, 9999)}",
                ),
                lead,
            )
            for name, email, lead in spec["suppliers"]
        ]
        products = []
        for index in range(1, spec["products"] + 1):
            product_type = types[index % len(types)]
            override = rng.choice([None, None, None, rng.randint(5, 60)])
            products.append(
                Product.objects.create(
                    company=company,
                    name=f"{rng.choice(ADJECTIVES)} {spec['items'][product_type.name]} {index}",
                    sku=f"{spec['prefix']}-{index:04d}",
                    price=Decimal(rng.randint(299, 9999)) / 100,
                    product_type=product_type,
                    low_stock_threshold=override,
                    description=f"Demo product {index} of {company.name}.",
                )
            )
        for product in products:
            # Most products have a primary supplier; some only an alternative; a few none.
            roll = rng.random()
            if roll < 0.1:
                continue
            chosen = rng.sample(suppliers, k=min(len(suppliers), rng.randint(1, 2)))
            for position, (supplier, lead) in enumerate(chosen):
                ProductSupplier.objects.create(
                    company=company,
                    product=product,
                    supplier=supplier,
                    supplier_sku=f"{supplier.name[:3].upper()}-{product.sku}",
                    unit_cost=(product.price * Decimal("0.55")).quantize(Decimal("0.0001")),
                    lead_time_days=lead + rng.randint(0, 3),
                    is_primary=position == 0 and roll < 0.8,
                )
        bundles = self._bundles(company, products, rng, spec["prefix"])

        now = timezone.now()
        start = now - timedelta(days=HISTORY_DAYS)
        rates = {product.id: rng.choice([0, 0.2, 0.5, 1, 2, 4]) for product in products}
        for product in products:
            for warehouse in warehouses:
                if rng.random() < 0.15:
                    continue  # not every product is stocked everywhere
                threshold = product.low_stock_threshold or product.product_type.low_stock_threshold
                record_initial_stock(
                    product=product,
                    warehouse=warehouse,
                    quantity=rng.randint(threshold, threshold * 6),
                    actor=None,
                    note="Opening balance",
                )
        stocked = {
            (level_product, level_wh)
            for level_product, level_wh in Product.objects.filter(
                company=company, stock_levels__isnull=False
            ).values_list("id", "stock_levels__warehouse_id")
        }
        sellable = [(p, w) for p in products for w in warehouses if (p.id, w.id) in stocked]
        for day in range(HISTORY_DAYS):
            sold_at_day = start + timedelta(days=day, hours=9)
            for product, warehouse in sellable:
                expected = rates[product.id]
                if expected == 0 or rng.random() > min(1.0, expected / 2):
                    continue
                self._sell(product, warehouse, rng.randint(1, 3), sold_at_day, rng, user)
            if day % 30 == 29:  # monthly deliveries for part of the range
                for product, warehouse in rng.sample(sellable, k=len(sellable) // 4):
                    receive_stock(
                        product=product,
                        warehouse=warehouse,
                        quantity=rng.randint(10, 60),
                        actor=user,
                        external_reference=f"PO-{day:03d}-{product.id}",
                        note="Scheduled delivery",
                    )
        for bundle in bundles:
            for day in range(0, HISTORY_DAYS, 7):
                self._sell(
                    bundle, warehouses[0], 1, start + timedelta(days=day, hours=15), rng, user
                )
        self._purchase_orders(company, warehouses, user, rng)

    def _purchase_orders(self, company, warehouses, user, rng: random.Random) -> None:
        """Orders in each status through the purchasing services: three received ones per
        supplier (placed 4 to 12 days ago, so their links show an observed lead time), one
        partly received and closed, one partly received, one ordered, one
        cancelled and one draft."""
        links = list(
            ProductSupplier.objects.filter(company=company).select_related("product", "supplier")
        )
        by_supplier: dict[int, list[ProductSupplier]] = {}
        for link in links:
            by_supplier.setdefault(link.supplier_id, []).append(link)
        plan = ["received"] * 3 + [
            "closed",
            "partially_received",
            "ordered",
            "cancelled",
            "draft",
        ]
        for supplier_links in by_supplier.values():
            chosen = rng.sample(supplier_links, k=min(3, len(supplier_links)))
            for status in plan:
                order = purchasing.create_order(
                    supplier=chosen[0].supplier,
                    warehouse=rng.choice(warehouses),
                    lines=[
                        purchasing.LineInput(link.product, rng.randint(2, 8) * 10)
                        for link in chosen
                    ],
                    notes="Demo order",
                    actor=user,
                )
                if status == "draft":
                    continue
                order = purchasing.place_order(order, actor=user)
                if status == "cancelled":
                    purchasing.cancel_order(order)
                    continue
                if status == "received":
                    # Placed some days ago: what the observed lead time averages.
                    PurchaseOrder.objects.filter(company=company, pk=order.pk).update(
                        ordered_at=order.ordered_at - timedelta(days=rng.randint(4, 12))
                    )
                    order.refresh_from_db()
                lines = list(order.lines.order_by("id"))
                if status == "received":
                    receipt = [(line, line.quantity_ordered) for line in lines]
                elif status in {"partially_received", "closed"}:
                    receipt = [(lines[0], lines[0].quantity_ordered // 2)]
                else:
                    receipt = []
                if receipt:
                    order = purchasing.receive_order(
                        order,
                        [purchasing.ReceiptLine(line.pk, units) for line, units in receipt],
                        actor=user,
                    )
                if status == "closed":
                    purchasing.close_order(order)

    def _sell(self, product, warehouse, quantity, when, rng, user) -> None:
        # Sold out that day: a realistic gap in the history.
        with contextlib.suppress(InsufficientStock):
            record_sale(
                product=product,
                warehouse=warehouse,
                quantity=quantity,
                sold_at=when + timedelta(minutes=rng.randint(0, 480)),
                actor=user,
            )

    def _bundles(self, company, products, rng, prefix) -> list[Product]:
        bundles = []
        for number in range(1, 4):
            bundle = Product.objects.create(
                company=company,
                name=f"Gift Box {number}",
                sku=f"{prefix}-KIT-{number}",
                price=Decimal("39.90") + number * 10,
                is_bundle=True,
                description="A kit sold as one item; its components leave stock.",
            )
            for component in rng.sample(products, k=2):
                BundleComponent.objects.create(
                    company=company, bundle=bundle, component=component, quantity=rng.randint(1, 2)
                )
            bundles.append(bundle)
        return bundles

    def _print_tour(self, user, port: str) -> None:
        for old in ApiToken.objects.filter(user=user, name="demo", revoked_at__isnull=True):
            revoke_token(old)
        _, token = issue_token(user=user, name="demo")
        company = Company.objects.filter(memberships__user=user).order_by("id").first()
        warehouse = Warehouse.objects.filter(company=company).order_by("id").first()
        base = f"http://127.0.0.1:{port}"
        auth = f'-H "Authorization: Bearer {token}"'
        self.stdout.write(self.style.SUCCESS(f"\nWeb app: {base}/"))
        self.stdout.write(
            self.style.SUCCESS(f"Demo login (web app): {DEMO_USERNAME} / {DEMO_PASSWORD}")
        )
        self.stdout.write(self.style.SUCCESS(f"Demo token: {token}\n"))
        self.stdout.write("Try:")
        self.stdout.write(f"  export TOKEN={token}")
        self.stdout.write(f"  curl -s {base}/api/warehouses {auth.replace(token, '$TOKEN')}")
        self.stdout.write(
            f"  curl -s {base}/api/companies/{company.id}/alerts/low-stock "
            f"{auth.replace(token, '$TOKEN')}"
        )
        self.stdout.write(
            f"  curl -s -X POST {base}/api/products {auth.replace(token, '$TOKEN')} "
            "-H 'Content-Type: application/json' "
            f'-d \'{{"name": "Travel Mug", "sku": "TRAVEL-001", "price": "19.99", '
            f'"warehouse_id": {warehouse.id}, "initial_quantity": 25}}\''
        )
        self.stdout.write(f"  API docs: {base}/api/docs/   admin: {base}/admin/\n")
