"""A seeded, deterministic low-stock dataset, and a plain-Python answer to compare with.

``build_dataset`` writes one company's warehouses, product types, products (some inactive,
some bundles, some bundles of bundles), suppliers, stock levels (some missing) and sales
with ``bulk_create``. The same seed gives the same rows on any database; only the ids
differ, so comparisons go through ``stable_alert`` (SKU, warehouse code, supplier name).
Rows are written as the services would write them: each stock level carries its product's
effective threshold, and every product that sold in a warehouse (directly or as a component
of a bundle) has a stock level there, empty if the draw gave it none.

``expected_alerts`` answers the report from the rows in memory with a straightforward
Python implementation of SPEC §3.2, independent of the SQL.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from stockflow.alerts.forecast import average_daily_sales_text, suggested_reorder_quantity
from stockflow.catalog.bundles import MAX_BUNDLE_DEPTH
from stockflow.catalog.lead_times import effective_lead_time_days
from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.inventory.models import Sale, StockLevel
from stockflow.purchasing.models import (
    OPEN_STATUSES,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    format_number,
)
from stockflow.tenancy.models import Company

WAREHOUSES = 4  # the last one inactive
PRODUCTS_PER_SCALE = 40
BUNDLES_PER_SCALE = 4
SUPPLIERS = 6
HISTORY_DAYS = 45
UNIT_COSTS = [None, "1.0000", "1.2500", "2.0000", "2.0001"]


@dataclass
class Dataset:
    company: Company
    warehouses: list[Warehouse]
    product_types: list[ProductType]
    products: list[Product]
    components: list[BundleComponent]
    suppliers: list[Supplier]
    links: list[ProductSupplier]
    stock_levels: list[StockLevel]
    sales: list[Sale]
    orders: list[PurchaseOrder]
    order_lines: list[PurchaseOrderLine]

    @property
    def row_count(self) -> int:
        return sum(
            len(rows)
            for rows in (
                self.warehouses,
                self.product_types,
                self.products,
                self.components,
                self.suppliers,
                self.links,
                self.stock_levels,
                self.sales,
                self.orders,
                self.order_lines,
            )
        )


def build_dataset(company: Company, *, seed: int, now: datetime, scale: int = 1) -> Dataset:
    rng = random.Random(seed)
    # SKUs are unique platform-wide: one dataset per seed and scale in a test.
    tag = f"G{seed}S{scale}"

    warehouses = Warehouse.objects.bulk_create(
        Warehouse(
            company=company,
            name=f"Warehouse {n}",
            code=f"WH-{n}",
            is_active=n < WAREHOUSES,
        )
        for n in range(1, WAREHOUSES + 1)
    )
    product_types = ProductType.objects.bulk_create(
        ProductType(company=company, name=f"Type {n}", low_stock_threshold=threshold)
        for n, threshold in enumerate([10, 25, None, 50], start=1)
    )

    def threshold() -> int | None:
        return rng.randint(0, 40) if rng.random() < 0.3 else None

    plain = [
        Product(
            company=company,
            name=f"Product {n}",
            sku=f"{tag}-P{n:05d}",
            price=Decimal("5.00"),
            product_type=rng.choice([*product_types, None]),
            low_stock_threshold=threshold(),
            is_active=rng.random() < 0.9,
        )
        for n in range(1, PRODUCTS_PER_SCALE * scale + 1)
    ]
    bundles = [
        Product(
            company=company,
            name=f"Bundle {n}",
            sku=f"{tag}-B{n:05d}",
            price=Decimal("20.00"),
            product_type=rng.choice([*product_types, None]),
            low_stock_threshold=threshold(),
            is_bundle=True,
            is_active=rng.random() < 0.9,
        )
        for n in range(1, BUNDLES_PER_SCALE * scale + 1)
    ]
    Product.objects.bulk_create(plain + bundles)

    components: list[BundleComponent] = []
    for index, bundle in enumerate(bundles):
        parts = rng.sample(plain, rng.randint(1, 3))
        if index and rng.random() < 0.5:  # a bundle of an earlier bundle: no cycle possible
            parts.append(rng.choice(bundles[:index]))
        components.extend(
            BundleComponent(
                company=company, bundle=bundle, component=part, quantity=rng.randint(1, 3)
            )
            for part in parts
        )
    BundleComponent.objects.bulk_create(components)

    suppliers = Supplier.objects.bulk_create(
        Supplier(company=company, name=f"Supplier {n}", contact_email=f"orders{n}@example.com")
        for n in range(1, SUPPLIERS + 1)
    )
    links: list[ProductSupplier] = []
    for product in plain:
        chosen = rng.sample(suppliers, rng.randint(0, 3))
        primary = rng.choice(chosen) if chosen and rng.random() < 0.3 else None
        for supplier in chosen:
            cost = rng.choice(UNIT_COSTS)
            links.append(
                ProductSupplier(
                    company=company,
                    product=product,
                    supplier=supplier,
                    lead_time_days=rng.choice([0, 3, 3, 7, 14]),
                    unit_cost=None if cost is None else Decimal(cost),
                    is_primary=supplier is primary,
                )
            )
    ProductSupplier.objects.bulk_create(links)

    type_thresholds = {t.pk: t.low_stock_threshold for t in product_types}

    def effective_threshold(product: Product) -> int | None:
        if product.low_stock_threshold is not None:
            return product.low_stock_threshold
        return type_thresholds.get(product.product_type_id)

    stock_levels = StockLevel.objects.bulk_create(
        StockLevel(
            company=company,
            product=product,
            warehouse=warehouse,
            quantity=rng.choice([0, rng.randint(0, 15), rng.randint(0, 60)]),
            low_stock_threshold=effective_threshold(product),
        )
        for product in plain
        for warehouse in warehouses
        if rng.random() < 0.85
    )

    sales: list[Sale] = []
    for product in plain + bundles:
        for warehouse in warehouses:
            if rng.random() < 0.5:
                continue
            for _ in range(rng.randint(1, 4)):
                # Half-day offsets keep every sale far from a window edge, whatever the
                # second the report runs; a few are dated in the future.
                offset = timedelta(days=rng.randint(0, HISTORY_DAYS), hours=12)
                sold_at = now + timedelta(days=1) if rng.random() < 0.03 else now - offset
                sales.append(
                    Sale(
                        company=company,
                        product=product,
                        warehouse=warehouse,
                        quantity=rng.randint(1, 12),
                        unit_price=Decimal("5.00"),
                        sold_at=sold_at,
                    )
                )
    Sale.objects.bulk_create(sales)

    # A sale takes its units from stock levels that exist (inventory.services): the levels
    # the draw left out where a product sold are there, empty.
    parts: dict[int, list[int]] = defaultdict(list)
    for line in components:
        parts[line.bundle_id].append(line.component_id)
    bundle_ids = {bundle.pk for bundle in bundles}

    def stock_holders(product_id: int) -> set[int]:
        if product_id not in bundle_ids:
            return {product_id}
        return {leaf for part in parts[product_id] for leaf in stock_holders(part)}

    stocked = {(level.product_id, level.warehouse_id) for level in stock_levels}
    sold = {
        (product_id, sale.warehouse_id)
        for sale in sales
        for product_id in stock_holders(sale.product_id)
    }
    products_by_id = {product.pk: product for product in plain}
    stock_levels += StockLevel.objects.bulk_create(
        StockLevel(
            company=company,
            product_id=product_id,
            warehouse_id=warehouse_id,
            quantity=0,
            low_stock_threshold=effective_threshold(products_by_id[product_id]),
        )
        for product_id, warehouse_id in sorted(sold - stocked)
    )

    orders, order_lines = _purchase_orders(
        company, random.Random(seed + 1), now, plain, warehouses, suppliers, links
    )

    return Dataset(
        company=company,
        warehouses=warehouses,
        product_types=product_types,
        products=plain + bundles,
        components=components,
        suppliers=suppliers,
        links=links,
        stock_levels=stock_levels,
        sales=sales,
        orders=orders,
        order_lines=order_lines,
    )


def _purchase_orders(company, rng, now, plain, warehouses, suppliers, links):
    """Orders in every status to the active warehouses, lines received in part or in full
    as their status says; a few supplier links with an observed lead time (the reorder
    arithmetic uses it from 3 received orders on). Drawn from their own generator: the rest
    of the dataset is the same with or without them."""
    for link in links:
        if rng.random() < 0.3:
            link.observed_orders = rng.randint(1, 5)
            link.observed_lead_time_days = rng.randint(1, 20)
    ProductSupplier.objects.bulk_update(links, ["observed_orders", "observed_lead_time_days"])
    today = now.date()
    orders = []
    for number in range(1, 61):
        orders.append(
            PurchaseOrder(
                company=company,
                number=format_number(number),
                supplier=rng.choice(suppliers),
                warehouse=rng.choice(warehouses[:-1]),
                status=rng.choice(PurchaseOrderStatus.values),
                expected_date=None
                if rng.random() < 0.1
                else today + timedelta(days=rng.randint(-5, 20)),
            )
        )
    PurchaseOrder.objects.bulk_create(orders)
    lines = []
    for order in orders:
        for product in rng.sample(plain, rng.randint(1, 6)):
            ordered = rng.randint(1, 40)
            if order.status == PurchaseOrderStatus.RECEIVED:
                received = ordered
            elif order.status in {PurchaseOrderStatus.PARTIALLY_RECEIVED, "closed"}:
                received = rng.randint(0, ordered)
            else:
                received = 0
            lines.append(
                PurchaseOrderLine(
                    company=company,
                    order=order,
                    product=product,
                    quantity_ordered=ordered,
                    quantity_received=received,
                    unit_cost=Decimal("1.0000"),
                )
            )
    PurchaseOrderLine.objects.bulk_create(lines)
    return orders, lines


def incoming(dataset: Dataset) -> dict[tuple[int, int], dict]:
    """on_order, on_draft and next_expected_date per (product, warehouse), in Python."""
    orders = {order.pk: order for order in dataset.orders}
    figures: dict[tuple[int, int], dict] = defaultdict(
        lambda: {"on_order": 0, "on_draft": 0, "next_expected_date": None}
    )
    for line in dataset.order_lines:
        order = orders[line.order_id]
        entry = figures[line.product_id, order.warehouse_id]
        remaining = line.quantity_ordered - line.quantity_received
        if order.status in OPEN_STATUSES:
            entry["on_order"] += remaining
            if remaining and order.expected_date is not None:
                date = order.expected_date.isoformat()
                if entry["next_expected_date"] is None or date < entry["next_expected_date"]:
                    entry["next_expected_date"] = date
        elif order.status == PurchaseOrderStatus.DRAFT:
            entry["on_draft"] += line.quantity_ordered
    return figures


def expected_alerts(
    dataset: Dataset,
    *,
    now: datetime,
    days: int = 30,
    cover_days: int = 30,
    warehouse_id: int | None = None,
    product_type_id: int | None = None,
) -> list[dict]:
    """The report's alerts, all of them, computed in Python from the rows in memory."""
    since = now - timedelta(days=days)
    parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for link in dataset.components:
        parts[link.bundle_id].append((link.component_id, link.quantity))

    demand: dict[tuple[int, int], int] = defaultdict(int)

    def consume(product_id: int, warehouse_id: int, units: int, depth: int) -> None:
        demand[product_id, warehouse_id] += units
        if depth < MAX_BUNDLE_DEPTH:
            for component_id, quantity in parts[product_id]:
                consume(component_id, warehouse_id, units * quantity, depth + 1)

    for sale in dataset.sales:
        if since < sale.sold_at <= now and warehouse_id in (None, sale.warehouse_id):
            consume(sale.product_id, sale.warehouse_id, sale.quantity, 0)

    products = {p.pk: p for p in dataset.products}
    warehouses = {w.pk: w for w in dataset.warehouses}
    type_thresholds = {t.pk: t.low_stock_threshold for t in dataset.product_types}
    stock = {(s.product_id, s.warehouse_id): s.quantity for s in dataset.stock_levels}
    best_link: dict[int, ProductSupplier] = {}
    for link in sorted(
        dataset.links,
        key=lambda ln: (
            not ln.is_primary,
            ln.lead_time_days,
            ln.unit_cost is None,
            ln.unit_cost or 0,
            ln.supplier_id,
        ),
    ):
        best_link.setdefault(link.product_id, link)
    suppliers = {s.pk: s for s in dataset.suppliers}
    coming = incoming(dataset)

    alerts = []
    for (product_id, wh_id), units_sold in demand.items():
        product, warehouse = products[product_id], warehouses[wh_id]
        if product.is_bundle or not product.is_active or not warehouse.is_active:
            continue
        if product_type_id is not None and product.product_type_id != product_type_id:
            continue
        threshold = product.low_stock_threshold
        if threshold is None and product.product_type_id is not None:
            threshold = type_thresholds[product.product_type_id]
        if (product_id, wh_id) not in stock:
            continue  # never the case with the services: a sale takes from a stock level
        current = stock[product_id, wh_id]
        if threshold is None or current >= threshold:
            continue
        link = best_link.get(product_id)
        supplier = suppliers[link.supplier_id] if link else None
        lead_time = effective_lead_time_days(link) if link else None
        figures = coming[product_id, wh_id]
        days_left = current * days // units_sold
        alerts.append(
            {
                "product_id": product_id,
                "product_name": product.name,
                "sku": product.sku,
                "warehouse_id": wh_id,
                "warehouse_name": warehouse.name,
                "current_stock": current,
                "threshold": threshold,
                "days_until_stockout": days_left,
                "supplier": None
                if supplier is None
                else {
                    "id": supplier.pk,
                    "name": supplier.name,
                    "contact_email": supplier.contact_email,
                },
                "units_sold": units_sold,
                "avg_daily_sales": average_daily_sales_text(units_sold=units_sold, days=days),
                "lead_time_days": lead_time,
                **figures,
                "suggested_reorder_quantity": suggested_reorder_quantity(
                    current_stock=current,
                    threshold=threshold,
                    units_sold=units_sold,
                    days=days,
                    lead_time_days=lead_time or 0,
                    cover_days=cover_days,
                    on_order=figures["on_order"],
                    on_draft=figures["on_draft"],
                ),
                "stockout_before_delivery": days_left < (lead_time or 0),
            }
        )
    alerts.sort(
        key=lambda a: (
            a["days_until_stockout"],
            -(a["threshold"] - a["current_stock"]),
            a["product_id"],
            a["warehouse_id"],
        )
    )
    return alerts


def stable_alert(alert: dict, dataset: Dataset, today: date) -> dict:
    """An alert with what is the same on every database and every day: codes for its ids,
    and its next expected delivery as days from ``today`` (the day the dataset was built
    for, whose orders are dated from it)."""
    codes = {w.pk: w.code for w in dataset.warehouses}
    hidden = {"product_id", "warehouse_id", "next_expected_date"}
    stable = {k: v for k, v in alert.items() if k not in hidden}
    stable["warehouse_code"] = codes[alert["warehouse_id"]]
    expected = alert["next_expected_date"]
    stable["next_expected_in_days"] = (
        None if expected is None else (date.fromisoformat(expected) - today).days
    )
    if alert["supplier"] is not None:
        stable["supplier"] = {k: v for k, v in alert["supplier"].items() if k != "id"}
    return stable
