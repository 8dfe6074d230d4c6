"""Load one benchmark company into its own PostgreSQL database, by COPY.

    .venv/bin/python -m bench.dataset --size S|M|L [--seed 42]

Sizes (warehouses × products = stock levels, sales over 90 days):
    S     5 ×  1,000 =     5,000 levels,    50,000 sales
    M    20 ×  5,000 =   100,000 levels, 1,000,000 sales
    L   100 × 10,000 = 1,000,000 levels, 5,000,000 sales

The database ``sf_bench_<size>`` is dropped and created again, migrated with ``manage.py
migrate``, and loaded. Everything is drawn from one seeded generator, so a size and a seed
always give the same rows; only the timestamps move with the day of the load (the sales end
"now", so that the low-stock report's 30-day window always has sales in it).

What the data looks like:
- product sales are Zipf-like (a few products sell far more than the rest), warehouses are
  mildly skewed; most sales are of 1 unit;
- product types carry thresholds (one type has none), about 10% of products override it;
- about 4% of stock levels end below their threshold; 1% of products are inactive, and at M
  and L the last warehouse is inactive;
- suppliers: most products have 1–3, usually with a primary one, some have none;
- a few bundles (2–3 components), sold now and then: their sales consume the components;
- one "hot" stock level (the best seller in the first warehouse) holds millions of units so
  that the single-row write benchmarks never run it dry.

Then ``--orders`` purchase orders (default 3,000, ``bench.purchase_orders``), most of them open,
about half their lines on levels below their threshold.

The ledger invariant holds for every stock level: one ``initial`` entry, then one ``sale``
entry per sale that touched it, in id order, with ``quantity_after`` chaining to the level's
quantity. Secondary indexes and foreign keys of the three large tables are dropped for the
load and created again (and so validated) afterwards; then VACUUM ANALYZE.

Prints each step's time as a JSON line, then the API token of the company's owner.
"""

from __future__ import annotations

import argparse
import random
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg

from bench.common import (
    SERVER_URL,
    Stopwatch,
    database_name,
    database_url,
    emit,
    libpq_url,
    save_state,
    setup_django,
)

DEFAULT_SEED = 42
HOT_LEVEL_STOCK = 20_000_000
COPY_CHUNK_ROWS = 20_000
BIG_TABLES = ("inventory_stocklevel", "inventory_ledgerentry", "inventory_sale")

PRODUCT_TYPES = [
    ("Beverages", 20),
    ("Snacks", 30),
    ("Household", 15),
    ("Personal care", 10),
    ("Electronics", 5),
    ("Office supplies", 25),
    ("Garden", 10),
    ("Toys", 8),
    ("Tools", 6),
    ("Apparel", 12),
    ("Pet supplies", 15),
    ("Samples", None),
]
OVERRIDE_THRESHOLDS = [3, 5, 8, 10, 15, 25, 40, 60]
SALE_QUANTITIES = ([1, 2, 3, 4, 5], [80, 12, 4, 2, 2])


@dataclass(frozen=True)
class Size:
    warehouses: int
    products: int
    sales: int
    suppliers: int
    bundles: int
    days: int = 90

    @property
    def stock_levels(self) -> int:
        return self.warehouses * self.products


SIZES = {
    "S": Size(warehouses=5, products=1_000, sales=50_000, suppliers=20, bundles=5),
    "M": Size(warehouses=20, products=5_000, sales=1_000_000, suppliers=60, bundles=20),
    "L": Size(warehouses=100, products=10_000, sales=5_000_000, suppliers=150, bundles=50),
}


@dataclass
class Catalog:
    """Rows of the small tables, plus what the sales and stock generation needs."""

    warehouses: list[tuple]
    product_types: list[tuple]
    products: list[tuple]
    suppliers: list[tuple]
    product_suppliers: list[tuple]
    bundle_components: list[tuple]
    prices: list[str]  # by product index (bundles after regular products)
    thresholds: list[int | None]  # effective threshold by regular product index
    popularity: list[int]  # regular product indexes, best seller first
    components: list[list[tuple[int, int]]]  # by bundle index: (product index, units)


def utc_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00")


class TimestampText:
    """Fast text of whole-second UTC timestamps (millions of them are written)."""

    def __init__(self, start_epoch: int, days: int) -> None:
        self.first_day = start_epoch // 86400 - 1
        self.days = [
            datetime.fromtimestamp((self.first_day + d) * 86400, UTC).strftime("%Y-%m-%d")
            for d in range(days + 3)
        ]

    def __call__(self, epoch: int) -> str:
        day, second = divmod(epoch, 86400)
        hour, second = divmod(second, 3600)
        minute, second = divmod(second, 60)
        return f"{self.days[day - self.first_day]} {hour:02d}:{minute:02d}:{second:02d}+00"


def build_catalog(
    rng: random.Random, size: Size, company_id: int, size_name: str, start
) -> Catalog:
    created = utc_text(start - timedelta(days=2))
    last_active = size.warehouses if size.warehouses < 20 else size.warehouses - 1
    warehouses = [
        (
            w + 1,
            company_id,
            f"Warehouse {w + 1:03d}",
            f"WH-{w + 1:03d}",
            f"{w + 1} Depot Road",
            w < last_active,
            created,
        )
        for w in range(size.warehouses)
    ]
    product_types = [
        (t + 1, company_id, name, threshold, created)
        for t, (name, threshold) in enumerate(PRODUCT_TYPES)
    ]

    popularity = list(range(size.products))
    rng.shuffle(popularity)
    hot_products = set(popularity[:50])

    products, prices, thresholds = [], [], []
    for p in range(size.products):
        type_index = rng.randrange(len(PRODUCT_TYPES))
        override = rng.choice(OVERRIDE_THRESHOLDS) if rng.random() < 0.10 else None
        active = p in hot_products or rng.random() >= 0.01
        price = Decimal(rng.randrange(150, 50_000)) / 100
        prices.append(str(price))
        thresholds.append(override if override is not None else PRODUCT_TYPES[type_index][1])
        products.append(
            (
                p + 1,
                company_id,
                f"Product {p + 1:06d}",
                f"B{size_name}-{p + 1:07d}",
                "",
                str(price),
                type_index + 1,
                override,
                False,
                active,
                created,
                created,
            )
        )

    components: list[list[tuple[int, int]]] = []
    bundle_components = []
    for b in range(size.bundles):
        bundle_id = size.products + b + 1
        parts = sorted(rng.sample(popularity[:200], rng.choice([2, 2, 3])))
        units = [rng.choice([1, 1, 2, 3]) for _ in parts]
        components.append(list(zip(parts, units, strict=True)))
        price = sum(Decimal(prices[c]) * u for c, u in zip(parts, units, strict=True)) * Decimal(
            "0.9"
        )
        price = price.quantize(Decimal("0.01"))
        prices.append(str(price))
        products.append(
            (
                bundle_id,
                company_id,
                f"Bundle {b + 1:04d}",
                f"B{size_name}-K{b + 1:05d}",
                "A kit sold as one product.",
                str(price),
                None,
                None,
                True,
                True,
                created,
                created,
            )
        )
        for c, u in zip(parts, units, strict=True):
            bundle_components.append((len(bundle_components) + 1, company_id, bundle_id, c + 1, u))

    suppliers = [
        (
            s + 1,
            company_id,
            f"Supplier {s + 1:03d}",
            f"orders@supplier{s + 1:03d}.example",
            f"+1-555-{s + 1:04d}",
            created,
        )
        for s in range(size.suppliers)
    ]
    product_suppliers = []
    for p in range(size.products):
        if rng.random() < 0.05:
            continue  # no supplier at all: the report shows supplier null
        count = rng.choices([1, 2, 3], weights=[50, 35, 15])[0]
        with_primary = rng.random() < 0.85
        for rank, s in enumerate(rng.sample(range(size.suppliers), count)):
            cost = (Decimal(prices[p]) * Decimal(rng.randrange(35, 75)) / 100).quantize(
                Decimal("0.0001")
            )
            product_suppliers.append(
                (
                    len(product_suppliers) + 1,
                    company_id,
                    p + 1,
                    s + 1,
                    f"S{s + 1}-{p + 1}",
                    str(cost),
                    rng.randint(2, 30),
                    with_primary and rank == 0,
                    created,
                )
            )
    return Catalog(
        warehouses,
        product_types,
        products,
        suppliers,
        product_suppliers,
        bundle_components,
        prices,
        thresholds,
        popularity,
        components,
    )


@dataclass
class SalesPlan:
    product: array  # product index (>= products: a bundle)
    warehouse: array
    quantity: array
    epoch: array  # sold at, whole seconds, ascending with the sale id


def draw_sales(rng: random.Random, size: Size, catalog: Catalog, start_epoch: int) -> SalesPlan:
    n = size.sales
    product_weights = [1.0 / (rank + 1) ** 0.9 for rank in range(size.products)]
    warehouse_weights = [1.0 / (w + 1) ** 0.5 for w in range(size.warehouses)]
    product = array("i", rng.choices(catalog.popularity, weights=product_weights, k=n))
    warehouse = array("i", rng.choices(range(size.warehouses), weights=warehouse_weights, k=n))
    quantity = array("i", rng.choices(*SALE_QUANTITIES, k=n))
    for _ in range(n // 200):  # 0.5% of sales are bundles
        i = rng.randrange(n)
        product[i] = size.products + rng.randrange(size.bundles)
        quantity[i] = 1
    span = size.days * 86400
    epoch = array("q", (start_epoch + int((i + rng.random()) * span / n) for i in range(n)))
    return SalesPlan(product, warehouse, quantity, epoch)


def units_sold_per_level(size: Size, catalog: Catalog, plan: SalesPlan) -> array:
    sold = array("q", bytes(8 * size.stock_levels))
    w_count, p_count = size.warehouses, size.products
    for p, w, q in zip(plan.product, plan.warehouse, plan.quantity, strict=True):
        if p < p_count:
            sold[p * w_count + w] += q
        else:
            for c, units in catalog.components[p - p_count]:
                sold[c * w_count + w] += q * units
    return sold


def final_quantities(
    rng: random.Random, size: Size, catalog: Catalog, sold: array, hot_level: int
) -> tuple[array, int]:
    """Quantity of each level after all sales; about 4% end below their threshold."""
    final = array("q", bytes(8 * size.stock_levels))
    low = 0
    for level in range(size.stock_levels):
        threshold = catalog.thresholds[level // size.warehouses]
        if level == hot_level:
            final[level] = HOT_LEVEL_STOCK
        elif threshold and rng.random() < 0.04:
            final[level] = rng.randrange(threshold)
            low += 1
        else:
            daily = sold[level] / size.days
            base = threshold if threshold is not None else 10
            final[level] = int(base * rng.uniform(1.2, 5.0) + daily * rng.uniform(5, 40)) + 1
    return final, low


def copy_rows(conn: psycopg.Connection, table: str, columns: list[str], rows) -> int:
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def drop_load_slowing_structures(conn: psycopg.Connection) -> list[str]:
    """Drop foreign keys and non-unique indexes of the large tables; return the DDL that
    restores them exactly (indexes first, then the constraints, which re-validate)."""
    tables = list(BIG_TABLES)
    fks = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conname",
        [tables],
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
        "  AND c.conrelid = i.indrelid) ORDER BY 1",
        [tables],
    ).fetchall()
    for table, name, _ in fks:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    restore = [ddl for _, ddl in indexes]
    restore += [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}' for table, name, ddl in fks]
    return restore


def write_chunks(copy, lines) -> int:
    count, buffer = 0, []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= COPY_CHUNK_ROWS:
            copy.write("".join(buffer))
            count += len(buffer)
            buffer.clear()
    if buffer:
        copy.write("".join(buffer))
        count += len(buffer)
    return count


LEDGER_COLUMNS = (
    "id, company_id, stock_level_id, product_id, warehouse_id, change, quantity_after, reason,"
    " adjustment_reason, reference_type, reference_id, actor_id, note, created_at"
)
SALE_COLUMNS = (
    "id, company_id, product_id, warehouse_id, quantity, unit_price, sold_at, created_by_id,"
    " created_at"
)


def load_stock_and_history(
    url: str,
    size: Size,
    catalog: Catalog,
    plan: SalesPlan,
    initial: array,
    final: array,
    company_id: int,
    user_id: int,
    start_epoch: int,
) -> tuple[int, int]:
    """COPY stock levels, then sales and ledger together (two connections, one pass)."""
    ts = TimestampText(start_epoch, size.days)
    opened = ts(start_epoch - 86400)
    end_text = ts(start_epoch + size.days * 86400)
    w_count, p_count = size.warehouses, size.products
    running = array("q", initial)
    final_text_at = [end_text] * size.stock_levels

    with psycopg.connect(url, autocommit=True) as conn:
        # updated_at of a level: its last sale, else its opening (computed below, cheaply).
        last_sale = array("q", bytes(8 * size.stock_levels))
        for p, w, at in zip(plan.product, plan.warehouse, plan.epoch, strict=True):
            if p < p_count:
                last_sale[p * w_count + w] = at
            else:
                for c, _ in catalog.components[p - p_count]:
                    last_sale[c * w_count + w] = at
        for level in range(size.stock_levels):
            final_text_at[level] = ts(last_sale[level]) if last_sale[level] else opened
        del last_sale
        # The effective threshold the service layer keeps on every stock level.
        threshold_text = ["\\N" if t is None else str(t) for t in catalog.thresholds]
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY inventory_stocklevel (id, company_id, product_id, warehouse_id, quantity,"
                " updated_at, low_stock_threshold) FROM STDIN"
            ) as copy,
        ):
            write_chunks(
                copy,
                (
                    f"{level + 1}\t{company_id}\t{level // w_count + 1}\t{level % w_count + 1}"
                    f"\t{final[level]}\t{final_text_at[level]}"
                    f"\t{threshold_text[level // w_count]}\n"
                    for level in range(size.stock_levels)
                ),
            )

    def ledger_and_sale_lines(sale_copy):
        entry_id = 0
        for level in range(size.stock_levels):
            if initial[level]:
                entry_id += 1
                p = level // w_count
                yield (
                    f"{entry_id}\t{company_id}\t{level + 1}\t{p + 1}\t{level % w_count + 1}"
                    f"\t{initial[level]}\t{initial[level]}\tinitial\t\tproduct\t{p + 1}\t\\N\t\t"
                    f"{opened}\n"
                )
        sale_buffer = []
        prices = catalog.prices
        for sale_index, (p, w, q, at) in enumerate(
            zip(plan.product, plan.warehouse, plan.quantity, plan.epoch, strict=True)
        ):
            sale_id = sale_index + 1
            sold_at = ts(at)
            sale_buffer.append(
                f"{sale_id}\t{company_id}\t{p + 1}\t{w + 1}\t{q}\t{prices[p]}\t{sold_at}"
                f"\t{user_id}\t{sold_at}\n"
            )
            if len(sale_buffer) >= COPY_CHUNK_ROWS:
                sale_copy.write("".join(sale_buffer))
                sale_buffer.clear()
            lines = (
                [(p, q)]
                if p < p_count
                else [(c, q * u) for c, u in catalog.components[p - p_count]]
            )
            for product_index, units in lines:
                level = product_index * w_count + w
                running[level] -= units
                entry_id += 1
                yield (
                    f"{entry_id}\t{company_id}\t{level + 1}\t{product_index + 1}\t{w + 1}"
                    f"\t{-units}\t{running[level]}\tsale\t\tsale\t{sale_id}\t{user_id}\t\t"
                    f"{sold_at}\n"
                )
        if sale_buffer:
            sale_copy.write("".join(sale_buffer))

    with (
        psycopg.connect(url, autocommit=True) as ledger_conn,
        psycopg.connect(url, autocommit=True) as sale_conn,
    ):
        for conn in (ledger_conn, sale_conn):
            conn.execute("SET synchronous_commit = off")
        with (
            ledger_conn.cursor() as ledger_cur,
            sale_conn.cursor() as sale_cur,
            ledger_cur.copy(f"COPY inventory_ledgerentry ({LEDGER_COLUMNS}) FROM STDIN") as lc,
            sale_cur.copy(f"COPY inventory_sale ({SALE_COLUMNS}) FROM STDIN") as sc,
        ):
            entries = write_chunks(lc, ledger_and_sale_lines(sc))
    if running != final:
        raise RuntimeError("ledger chain does not end at the stock level quantities")
    return entries, size.sales


def create_database(name: str) -> None:
    with psycopg.connect(libpq_url(SERVER_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def create_owner_and_token(size_name: str) -> tuple[int, int, str]:
    from django.contrib.auth import get_user_model

    from stockflow.tenancy.services import create_company, issue_token

    user = get_user_model().objects.create_user(
        username="bench-owner", email="owner@bench.example", password=None
    )
    company = create_company(name=f"Bench Company {size_name}", owner=user)
    _, token = issue_token(user=user, name="benchmarks")
    return company.pk, user.pk, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), type=str.upper, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--orders",
        type=int,
        default=3000,
        help="purchase orders to add after the load (bench.purchase_orders); 0: none",
    )
    args = parser.parse_args()
    size_name, size = args.size, SIZES[args.size]
    name, url = database_name(size_name), database_url(size_name)
    pg_url = libpq_url(url)

    def step(label: str, seconds: float, **extra) -> None:
        emit(bench="dataset", size=size_name, step=label, seconds=seconds, **extra)

    total, watch = Stopwatch(), Stopwatch()
    create_database(name)
    step("create_database", watch.lap(), database=name)

    setup_django(url)
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0, interactive=False)
    step("migrate", watch.lap())
    company_id, user_id, token = create_owner_and_token(size_name)
    connections.close_all()

    rng = random.Random(f"{args.seed}:{size_name}")
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=size.days)
    start_epoch = int(start.timestamp())
    catalog = build_catalog(rng, size, company_id, size_name, start)
    plan = draw_sales(rng, size, catalog, start_epoch)
    sold = units_sold_per_level(size, catalog, plan)
    hot_product = catalog.popularity[0]
    hot_level = hot_product * size.warehouses  # the best seller in the first warehouse
    final, low = final_quantities(rng, size, catalog, sold, hot_level)
    initial = array("q", (f + s for f, s in zip(final, sold, strict=True)))
    del sold
    step("generate", watch.lap())

    with psycopg.connect(pg_url, autocommit=True) as conn:
        copy_rows(
            conn,
            "catalog_warehouse",
            ["id", "company_id", "name", "code", "address", "is_active", "created_at"],
            catalog.warehouses,
        )
        copy_rows(
            conn,
            "catalog_producttype",
            ["id", "company_id", "name", "low_stock_threshold", "created_at"],
            catalog.product_types,
        )
        copy_rows(
            conn,
            "catalog_product",
            [
                "id",
                "company_id",
                "name",
                "sku",
                "description",
                "price",
                "product_type_id",
                "low_stock_threshold",
                "is_bundle",
                "is_active",
                "created_at",
                "updated_at",
            ],
            catalog.products,
        )
        copy_rows(
            conn,
            "catalog_supplier",
            ["id", "company_id", "name", "contact_email", "phone", "created_at"],
            catalog.suppliers,
        )
        copy_rows(
            conn,
            "catalog_productsupplier",
            [
                "id",
                "company_id",
                "product_id",
                "supplier_id",
                "supplier_sku",
                "unit_cost",
                "lead_time_days",
                "is_primary",
                "created_at",
            ],
            catalog.product_suppliers,
        )
        copy_rows(
            conn,
            "catalog_bundlecomponent",
            ["id", "company_id", "bundle_id", "component_id", "quantity"],
            catalog.bundle_components,
        )
        step("load_catalog", watch.lap(), products=len(catalog.products))
        restore = drop_load_slowing_structures(conn)

    try:
        entries, sales = load_stock_and_history(
            pg_url, size, catalog, plan, initial, final, company_id, user_id, start_epoch
        )
        step(
            "load_stock_sales_ledger",
            watch.lap(),
            stock_levels=size.stock_levels,
            sales=sales,
            ledger_entries=entries,
        )
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            for ddl in restore:
                conn.execute(ddl)
            step("restore_indexes_and_foreign_keys", watch.lap(), statements=len(restore))

    if args.orders:
        from bench.purchase_orders import add_purchase_orders

        added = add_purchase_orders(pg_url, company_id, orders=args.orders, seed=args.seed)
        step("purchase_orders", watch.lap(), **added)

    with psycopg.connect(pg_url, autocommit=True) as conn:
        for table in (
            "catalog_warehouse",
            "catalog_producttype",
            "catalog_product",
            "catalog_supplier",
            "catalog_productsupplier",
            "catalog_bundlecomponent",
            *BIG_TABLES,
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        conn.execute("VACUUM (ANALYZE)")
        step("vacuum_analyze", watch.lap())
        db_bytes = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]

    hot = {
        "stock_level_id": hot_level + 1,
        "product_id": hot_product + 1,
        "warehouse_id": 1,
    }
    save_state(
        size_name,
        {
            "size": size_name,
            "seed": args.seed,
            "database_url": url,
            "company_id": company_id,
            "user_id": user_id,
            "token": token,
            "warehouses": size.warehouses,
            "products": size.products,
            "stock_levels": size.stock_levels,
            "sales": sales,
            "hot": hot,
            "loaded_at": datetime.now(UTC).isoformat(),
        },
    )
    emit(
        bench="dataset",
        size=size_name,
        step="total",
        seconds=total.lap(),
        database=name,
        stock_levels=size.stock_levels,
        sales=sales,
        ledger_entries=entries,
        levels_below_threshold=low,
        database_mb=round(db_bytes / 2**20),
    )
    emit(bench="dataset", size=size_name, company_id=company_id, hot=hot, token=token)


if __name__ == "__main__":
    main()
