"""Add purchase orders to a loaded benchmark company, by COPY.

    .venv/bin/python -m bench.purchase_orders --size M [--orders 3000] [--seed 42]

``bench.dataset`` calls it after a load (its ``--orders``, default 3000); run alone, it adds
more orders to a database already loaded. Each order goes to one active warehouse, from one
supplier, with 1 to 8 lines; about half the lines are of products below their threshold in
that warehouse (those the low-stock report shows, so its on-order figures find lines), the
rest of any active product. Statuses: 45% ordered, 20% partly received, 20% draft, 10%
received, 5% cancelled; expected dates from 10 days ago to 30 days ahead. Numbers continue the
company's counter. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta

import psycopg

from bench.common import Stopwatch, database_url, emit, libpq_url, load_state
from bench.dataset import copy_rows

STATUSES = (
    ["ordered", "partially_received", "draft", "received", "cancelled"],
    [45, 20, 20, 10, 5],
)
ORDER_COLUMNS = [
    "id",
    "company_id",
    "number",
    "supplier_id",
    "warehouse_id",
    "status",
    "expected_date",
    "notes",
    "created_at",
    "updated_at",
    "ordered_at",
    "received_at",
    "cancelled_at",
]
LINE_COLUMNS = [
    "id",
    "company_id",
    "order_id",
    "product_id",
    "quantity_ordered",
    "quantity_received",
    "unit_cost",
]


def add_purchase_orders(pg_url: str, company_id: int, *, orders: int, seed: int) -> dict:
    rng = random.Random(f"{seed}:purchase-orders")
    now = datetime.now(UTC)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        warehouses = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM catalog_warehouse WHERE company_id = %s AND is_active ORDER BY id",
                [company_id],
            )
        ]
        suppliers = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM catalog_supplier WHERE company_id = %s ORDER BY id", [company_id]
            )
        ]
        products = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM catalog_product WHERE company_id = %s AND is_active"
                " AND NOT is_bundle ORDER BY id",
                [company_id],
            )
        ]
        low: dict[int, list[int]] = {}
        for product_id, warehouse_id in conn.execute(
            "SELECT product_id, warehouse_id FROM inventory_stocklevel"
            " WHERE company_id = %s AND quantity < low_stock_threshold ORDER BY id",
            [company_id],
        ):
            low.setdefault(warehouse_id, []).append(product_id)
        next_order = conn.execute(
            "SELECT coalesce(max(id), 0) + 1 FROM purchasing_purchaseorder"
        ).fetchone()[0]
        next_line = conn.execute(
            "SELECT coalesce(max(id), 0) + 1 FROM purchasing_purchaseorderline"
        ).fetchone()[0]
        last_number = conn.execute(
            "SELECT coalesce(max(last_number), 0) FROM purchasing_purchaseordercounter"
            " WHERE company_id = %s",
            [company_id],
        ).fetchone()[0]

        order_rows, line_rows = [], []
        for n in range(orders):
            order_id = next_order + n
            warehouse = rng.choice(warehouses)
            status = rng.choices(*STATUSES)[0]
            created = now - timedelta(days=rng.randint(1, 40))
            ordered = None if status == "draft" else created + timedelta(hours=2)
            order_rows.append(
                (
                    order_id,
                    company_id,
                    f"PO-{last_number + n + 1:06d}",
                    rng.choice(suppliers),
                    warehouse,
                    status,
                    (now + timedelta(days=rng.randint(-10, 30))).date(),
                    "",
                    created,
                    created,
                    ordered,
                    now if status == "received" else None,
                    now if status == "cancelled" else None,
                )
            )
            chosen: set[int] = set()
            for _ in range(rng.randint(1, 8)):
                pool = low.get(warehouse) if rng.random() < 0.5 else None
                chosen.add(rng.choice(pool or products))
            for product_id in sorted(chosen):
                quantity = rng.randint(5, 200)
                received = {
                    "received": quantity,
                    "partially_received": rng.randint(0, quantity - 1),
                }.get(status, 0)
                line_rows.append(
                    (
                        next_line + len(line_rows),
                        company_id,
                        order_id,
                        product_id,
                        quantity,
                        received,
                        f"{rng.randint(100, 9999) / 100:.4f}",
                    )
                )
        copy_rows(conn, "purchasing_purchaseorder", ORDER_COLUMNS, order_rows)
        copy_rows(conn, "purchasing_purchaseorderline", LINE_COLUMNS, line_rows)
        conn.execute(
            "INSERT INTO purchasing_purchaseordercounter (company_id, last_number) VALUES (%s, %s)"
            " ON CONFLICT (company_id) DO UPDATE SET last_number = excluded.last_number",
            [company_id, last_number + orders],
        )
        for table in ("purchasing_purchaseorder", "purchasing_purchaseorderline"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
            conn.execute(f"ANALYZE {table}")
    return {"orders": len(order_rows), "lines": len(line_rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=str.upper, required=True)
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    state = load_state(args.size)
    watch = Stopwatch()
    added = add_purchase_orders(
        libpq_url(database_url(args.size)), state["company_id"], orders=args.orders, seed=args.seed
    )
    emit(bench="dataset", size=args.size, step="purchase_orders", seconds=watch.lap(), **added)


if __name__ == "__main__":
    main()
