"""The apply under concurrency, with real threads on PostgreSQL: two runs of the same job
write it once; a stock count file applied while transfers move the same levels, in the
opposite order, ends without a deadlock and with the ledger intact; so do two product files
and a stock count file of one company applied while the API sells the same products."""

from __future__ import annotations

from functools import partial

import pytest

from stockflow.catalog.models import Product
from stockflow.dataio import services
from stockflow.dataio.models import ImportJob, ImportStatus
from stockflow.inventory import movements
from stockflow.inventory.models import StockLevel, StockMovement
from tests.factories import client_for, run_concurrently
from tests.factories.imports import import_shop, stocked, validated, verify_stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def valid_counts(shop, rows: list[tuple[str, str, int]]) -> int:
    text = "sku,warehouse,counted_quantity\n" + "".join(f"{s},{w},{q}\n" for s, w, q in rows)
    return valid_job(shop, "stock_counts", text)


def valid_job(shop, kind: str, text: str) -> int:
    """A job of ``text``, validated and marked for applying (the apply is the caller's)."""
    job = validated(shop.tenant.admin, shop.company.pk, kind, text)
    assert job["status"] == "valid", job["errors"]
    services.start_apply(ImportJob.objects.get(pk=job["id"]))
    return job["id"]


def test_two_runs_of_one_apply_write_it_once():
    shop = import_shop()
    stocked(shop, "ONCE-1", 5)
    job_id = valid_counts(shop, [("ONCE-1", "MAIN", 9)])
    run_concurrently([lambda: services.apply_job(shop.company.pk, job_id)] * 2)
    assert ImportJob.objects.get(pk=job_id).status == ImportStatus.APPLIED
    assert StockMovement.objects.filter(company=shop.company).count() == 1
    verify_stock()


def test_counts_and_transfers_in_opposite_orders_do_not_deadlock():
    shop = import_shop()
    products = [stocked(shop, f"DL-{n}", 50) for n in range(30)]
    for product in products:
        movements.receive_stock(product=product, warehouse=shop.back, quantity=50)
    # The file counts the products from the last to the first; the transfers go first to last.
    rows = [(p.sku, code, 40) for p in reversed(products) for code in ("BACK", "MAIN")]
    job_id = valid_counts(shop, rows)

    def transfers():
        for _ in range(3):
            for product in products:
                movements.transfer_stock(
                    product=product, from_warehouse=shop.main, to_warehouse=shop.back, quantity=1
                )

    run_concurrently(
        [lambda: services.apply_job(shop.company.pk, job_id), transfers, transfers, transfers]
    )
    assert ImportJob.objects.get(pk=job_id).status == ImportStatus.APPLIED
    assert StockLevel.objects.filter(company=shop.company).count() == 60
    verify_stock()


def products_file(rows: list[tuple[str, str, int, int | str]]) -> str:
    """(SKU, name, threshold, opening stock in MAIN and in BACK, "" for none) per row."""
    lines = [
        f"{sku},{name},5.00,{threshold},{stock},{stock}\n" for sku, name, threshold, stock in rows
    ]
    return "sku,name,price,low_stock_threshold,stock:MAIN,stock:BACK\n" + "".join(lines)


def test_product_and_count_imports_with_sales_do_not_deadlock(monkeypatch):
    # Chunks of 10 rows: each file is written in several chunks, each locking rows of its own.
    monkeypatch.setattr(services, "CHUNK_ROWS", 10)
    shop = import_shop()
    sold = [stocked(shop, f"LIVE-{n:02d}", 50) for n in range(30)]
    for product in sold:
        movements.receive_stock(product=product, warehouse=shop.back, quantity=50)
    # Both product files update every sold product (name and threshold, which reach their
    # levels), in opposite orders, and create new products, 20 of them in both files (with
    # the same opening stock: the second file to be applied finds them and updates them).
    first = valid_job(
        shop,
        "products",
        products_file(
            [(p.sku, "First", 7, "") for p in reversed(sold)]
            + [(f"NEW-{n:02d}", "First", 4, n % 9) for n in range(40)]
        ),
    )
    second = valid_job(
        shop,
        "products",
        products_file(
            [(p.sku, "Second", 9, "") for p in sold]
            + [(f"NEW-{n:02d}", "Second", 6, n % 9) for n in reversed(range(20, 60))]
        ),
    )
    counts = valid_counts(
        shop, [(p.sku, code, 45) for p in reversed(sold) for code in ("BACK", "MAIN")]
    )
    jobs = [first, second, counts]

    def sales():
        client = client_for(shop.tenant.users["staff"])
        for product in sold:
            sale = {"product_id": product.pk, "warehouse_id": shop.main.pk, "quantity": 1}
            assert client.post("/api/sales", sale, format="json").status_code == 201

    run_concurrently(
        [*(partial(services.apply_job, shop.company.pk, job) for job in jobs), sales, sales]
    )

    for job in ImportJob.objects.filter(pk__in=jobs):
        assert job.status == ImportStatus.APPLIED, job.errors
    assert Product.objects.filter(company=shop.company, sku__startswith="NEW-").count() == 60
    assert set(
        Product.objects.filter(pk__in=[p.pk for p in sold]).values_list("name", flat=True)
    ) in (
        {"First"},
        {"Second"},
    )
    new = StockLevel.objects.filter(company=shop.company, product__sku__startswith="NEW-")
    assert sorted(new.values_list("product__sku", "quantity"))[:4] == [
        ("NEW-00", 0),
        ("NEW-00", 0),
        ("NEW-01", 1),
        ("NEW-01", 1),
    ]
    # Each count set its level to 45, before or after the two sales of its product there.
    for level in StockLevel.objects.filter(product__in=sold):
        assert level.quantity in ((43, 44, 45) if level.warehouse_id == shop.main.pk else (45,))
    verify_stock()
