"""Stock levels, one product's stock, the ledger, sales and movements: filters, order, tenant
isolation and query budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stockflow.inventory.models import LedgerEntry
from stockflow.inventory.movements import adjust_stock, receive_stock, transfer_stock
from stockflow.inventory.sales import record_sale
from tests.factories import assert_error
from tests.inventory.conftest import make_product, make_warehouse, put_stock


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.fixture
def busy_shop(shop, tenant_a):
    """A shop with some history: receipts, sales (one of a bundle), a transfer, a count."""
    staff = tenant_a.users["staff"]
    receive_stock(product=shop.mug, warehouse=shop.main, quantity=10, actor=staff)
    record_sale(product=shop.mug, warehouse=shop.main, quantity=2, actor=staff)
    record_sale(product=shop.gift_box, warehouse=shop.main, quantity=1, actor=staff)
    transfer_stock(
        product=shop.coffee, from_warehouse=shop.main, to_warehouse=shop.backup, quantity=5
    )
    adjust_stock(
        product=shop.mug, warehouse=shop.main, reason="count", counted_quantity=100, actor=staff
    )
    return shop


# --- stock levels --------------------------------------------------------------------------


def test_stock_levels_list_and_filters(
    tenant_a, busy_shop, other_shop, django_assert_max_num_queries
):
    shop = busy_shop
    with django_assert_max_num_queries(4):
        rows = results(tenant_a.viewer.get("/api/stock-levels"))
    assert {(r["product_id"], r["warehouse_id"], r["quantity"]) for r in rows} == {
        (shop.mug.id, shop.main.id, 100),
        (shop.coffee.id, shop.main.id, 43),
        (shop.coffee.id, shop.backup.id, 5),
    }
    mug = next(r for r in rows if r["product_id"] == shop.mug.id)
    assert (mug["sku"], mug["warehouse_code"], mug["low_stock_threshold"]) == ("MUG", "MAIN", 20)

    by_warehouse = results(tenant_a.viewer.get(f"/api/stock-levels?warehouse_id={shop.backup.id}"))
    assert [(r["product_id"], r["quantity"]) for r in by_warehouse] == [(shop.coffee.id, 5)]
    by_product = results(tenant_a.viewer.get(f"/api/stock-levels?product_id={shop.coffee.id}"))
    assert {r["warehouse_id"] for r in by_product} == {shop.main.id, shop.backup.id}
    foreign = results(tenant_a.viewer.get(f"/api/stock-levels?company_id={other_shop.company.id}"))
    assert foreign == []


def test_stock_levels_below_threshold_uses_the_effective_threshold(tenant_a, busy_shop):
    shop = busy_shop
    # The mug's threshold is its type's (20), coffee's its own (60); a product without any
    # threshold is never below.
    plain = make_product(shop.company, "PLAIN")
    put_stock(plain, shop.main, 0)
    rows = results(tenant_a.viewer.get("/api/stock-levels?below_threshold=true"))
    assert {(r["product_id"], r["warehouse_id"]) for r in rows} == {
        (shop.coffee.id, shop.main.id),
        (shop.coffee.id, shop.backup.id),
    }
    assert all(r["below_threshold"] for r in rows)
    rest = results(tenant_a.viewer.get("/api/stock-levels?below_threshold=false"))
    assert {r["product_id"] for r in rest} == {shop.mug.id, plain.id}


def test_stock_levels_are_isolated_per_tenant(tenant_b, busy_shop, other_shop):
    rows = results(tenant_b.viewer.get("/api/stock-levels"))
    assert {r["product_id"] for r in rows} == {other_shop.mug.id, other_shop.coffee.id}
    level_id = busy_shop.mug.stock_levels.get().id
    assert_error(tenant_b.viewer.get(f"/api/stock-levels/{level_id}"), 404, "not_found")


# --- one product's stock -------------------------------------------------------------------


def test_product_stock_in_every_warehouse(tenant_a, busy_shop, django_assert_max_num_queries):
    shop = busy_shop
    closed = make_warehouse(shop.company, "CLOSED", is_active=False)
    with django_assert_max_num_queries(5):
        response = tenant_a.viewer.get(f"/api/products/{shop.coffee.id}/stock")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["sku"], data["total_quantity"], data["low_stock_threshold"]) == ("COFFEE", 48, 60)
    assert [
        (w["warehouse_id"], w["quantity"], w["warehouse_is_active"]) for w in data["warehouses"]
    ] == [
        (shop.main.id, 43, True),
        (shop.backup.id, 5, True),
        (closed.id, 0, False),
    ]
    assert data["warehouses"][2]["stock_level_id"] is None


def test_bundle_stock_is_what_its_components_can_make(
    tenant_a, busy_shop, django_assert_max_num_queries
):
    shop = busy_shop  # main: 100 mugs, 43 coffee (2 per box); backup: 0 mugs, 5 coffee
    with django_assert_max_num_queries(6):
        data = tenant_a.viewer.get(f"/api/products/{shop.gift_box.id}/stock").json()
    assert data["is_bundle"] is True
    assert [(w["warehouse_id"], w["quantity"]) for w in data["warehouses"]] == [
        (shop.main.id, 21),
        (shop.backup.id, 0),
    ]


def test_product_stock_of_another_tenant_is_404(tenant_b, shop):
    assert_error(tenant_b.owner.get(f"/api/products/{shop.mug.id}/stock"), 404, "not_found")
    assert_error(tenant_b.owner.get("/api/products/99999999/stock"), 404, "not_found")


# --- ledger --------------------------------------------------------------------------------


def test_ledger_newest_first_with_filters(tenant_a, busy_shop, django_assert_max_num_queries):
    shop = busy_shop
    with django_assert_max_num_queries(3):
        rows = results(tenant_a.viewer.get("/api/ledger"))
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids, reverse=True)
    assert len(rows) == LedgerEntry.objects.filter(company=shop.company).count()

    mug_rows = results(tenant_a.viewer.get(f"/api/ledger?product_id={shop.mug.id}"))
    assert [r["reason"] for r in mug_rows] == ["adjustment", "sale", "sale", "receipt", "initial"]
    sales = results(tenant_a.viewer.get("/api/ledger?reason=sale"))
    assert {r["product_id"] for r in sales} == {shop.mug.id, shop.coffee.id}
    backup = results(tenant_a.viewer.get(f"/api/ledger?warehouse_id={shop.backup.id}"))
    assert [(r["reason"], r["change"]) for r in backup] == [("transfer_in", 5)]
    assert_error(tenant_a.viewer.get("/api/ledger?reason=stolen"), 400, "validation_error")


def test_ledger_date_filters(tenant_a, busy_shop):
    now = timezone.now()
    later = (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    earlier = (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert results(tenant_a.viewer.get("/api/ledger", {"created_after": later})) == []
    assert len(results(tenant_a.viewer.get("/api/ledger", {"created_after": earlier}))) > 0
    assert results(tenant_a.viewer.get("/api/ledger", {"created_before": earlier})) == []


def test_ledger_cursor_pagination(tenant_a, busy_shop):
    first = tenant_a.viewer.get("/api/ledger?page_size=3").json()
    assert len(first["results"]) == 3
    second = tenant_a.viewer.get(first["next"]).json()
    all_ids = [r["id"] for r in first["results"] + second["results"]]
    assert all_ids == sorted(set(all_ids), reverse=True)


def test_ledger_is_isolated_and_read_only(tenant_a, tenant_b, busy_shop):
    assert results(tenant_b.viewer.get("/api/ledger")) == []
    entry = LedgerEntry.objects.filter(company=busy_shop.company).first()
    assert_error(tenant_b.owner.get(f"/api/ledger/{entry.id}"), 404, "not_found")
    assert tenant_a.owner.get(f"/api/ledger/{entry.id}").status_code == 200
    for method in ("put", "patch", "delete"):
        response = getattr(tenant_a.owner, method)(f"/api/ledger/{entry.id}", {}, format="json")
        assert_error(response, 405, "method_not_allowed")
    assert_error(tenant_a.owner.post("/api/ledger", {}, format="json"), 405, "method_not_allowed")


# --- sales and movements -------------------------------------------------------------------


def test_sales_list(tenant_a, tenant_b, busy_shop, django_assert_max_num_queries):
    shop = busy_shop
    record_sale(
        product=shop.mug,
        warehouse=shop.main,
        quantity=1,
        sold_at=timezone.now() - timedelta(days=90),
    )
    with django_assert_max_num_queries(3):
        rows = results(tenant_a.viewer.get("/api/sales"))
    assert [r["product_id"] for r in rows] == [shop.mug.id, shop.gift_box.id, shop.mug.id]
    assert rows[0]["unit_price"] == "12.50"
    recent = results(
        tenant_a.viewer.get(
            "/api/sales",
            {
                "sold_after": (timezone.now() - timedelta(days=30))
                .isoformat()
                .replace("+00:00", "Z")
            },
        )
    )
    assert len(recent) == 2
    assert len(results(tenant_a.viewer.get(f"/api/sales?product_id={shop.gift_box.id}"))) == 1
    assert results(tenant_b.viewer.get("/api/sales")) == []


def test_movements_list(tenant_a, busy_shop, django_assert_max_num_queries):
    shop = busy_shop
    with django_assert_max_num_queries(3):
        rows = results(tenant_a.viewer.get("/api/stock/movements"))
    assert [r["kind"] for r in rows] == ["adjustment", "transfer", "receipt"]
    in_backup = results(tenant_a.viewer.get(f"/api/stock/movements?warehouse_id={shop.backup.id}"))
    assert [r["kind"] for r in in_backup] == ["transfer"]
    counts = results(tenant_a.viewer.get("/api/stock/movements?kind=adjustment"))
    assert counts[0]["counted_quantity"] == 100


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_counts_do_not_grow_with_rows(
    tenant_a, shop, rows, django_assert_max_num_queries
):
    for index in range(rows):
        warehouse = make_warehouse(shop.company)
        put_stock(shop.mug, warehouse, index + 1)
        record_sale(product=shop.mug, warehouse=warehouse, quantity=1)
    for url, budget in (
        ("/api/stock-levels", 4),
        ("/api/ledger", 3),
        ("/api/sales", 3),
        ("/api/stock/movements", 3),
    ):
        with django_assert_max_num_queries(budget):
            assert tenant_a.viewer.get(url).status_code == 200
