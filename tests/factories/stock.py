"""Stock and sales history, and running requests from several threads at once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from stockflow.catalog.models import Product, Warehouse
from stockflow.inventory.models import Sale, StockLevel
from stockflow.inventory.movements import record_initial_stock


def put_stock(product: Product, warehouse: Warehouse, quantity: int) -> StockLevel:
    """The product's stock level in one more warehouse, with ``quantity`` units, as the
    inventory services create it (its threshold, its ``initial`` ledger entry)."""
    return record_initial_stock(product=product, warehouse=warehouse, quantity=quantity)


def past_sale(
    product: Product,
    warehouse: Warehouse,
    quantity: int = 1,
    *,
    days_ago: float = 1,
    at: datetime | None = None,
    unit_price=None,
) -> Sale:
    """A sale in the company's history, written as a row without touching the stock (as
    imported history would be): the low-stock report reads these; a sale made now goes
    through ``inventory.sales``."""
    return Sale.objects.create(
        company_id=product.company_id,
        product=product,
        warehouse=warehouse,
        quantity=quantity,
        unit_price=product.price if unit_price is None else unit_price,
        sold_at=at if at is not None else timezone.now() - timedelta(days=days_ago),
    )


def quantity_of(product: Product, warehouse: Warehouse) -> int | None:
    return (
        StockLevel.objects.filter(product=product, warehouse=warehouse)
        .values_list("quantity", flat=True)
        .first()
    )


def run_concurrently(functions: list, timeout: float = 60) -> list:
    """Run each function in its own thread, released together by a barrier; return their
    results in order (an exception raised in a thread is re-raised here). Each thread closes
    its database connection at the end."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)
    errors: list = []

    def worker(index: int, function) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = function()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, function), daemon=True)
        for index, function in enumerate(functions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results
