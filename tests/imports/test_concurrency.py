"""The apply under concurrency, with real threads on PostgreSQL: two runs of the same job
write it once; a stock count file applied while transfers move the same levels, in the
opposite order, ends without a deadlock and with the ledger intact."""

from __future__ import annotations

import pytest

from stockflow.dataio import services
from stockflow.dataio.models import ImportJob, ImportStatus
from stockflow.inventory import movements
from stockflow.inventory.models import StockLevel, StockMovement
from tests.factories import run_concurrently
from tests.factories.imports import import_shop, stocked, validated, verify_stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def valid_counts(shop, rows: list[tuple[str, str, int]]) -> int:
    text = "sku,warehouse,counted_quantity\n" + "".join(f"{s},{w},{q}\n" for s, w, q in rows)
    job = validated(shop.tenant.staff, shop.company.pk, "stock_counts", text)
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
