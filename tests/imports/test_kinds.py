"""Stock counts, sales history, suppliers and product-supplier links; an import agrees with
the same rows sent one by one through the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from stockflow.catalog import services as catalog
from stockflow.catalog.models import ProductSupplier, Supplier
from stockflow.inventory.models import (
    AdjustmentReason,
    LedgerEntry,
    Sale,
    StockLevel,
    StockMovement,
)
from tests.factories.imports import applied, codes, import_shop, stocked, validated, verify_stock

pytestmark = pytest.mark.django_db


def levels(company) -> dict[tuple[str, str], int]:
    # SKUs are unique across companies: each shop's carry its own prefix ("A-", "B-").
    return {
        (sku[2:], code): quantity
        for sku, code, quantity in StockLevel.objects.filter(company=company).values_list(
            "product__sku", "warehouse__code", "quantity"
        )
    }


def ledger_sums(company) -> dict[tuple[str, str, str], int]:
    rows = (
        LedgerEntry.objects.filter(company=company)
        .values_list("product__sku", "warehouse__code", "reason")
        .annotate(total=Sum("change"))
    )
    return {(sku[2:], code, reason): total for sku, code, reason, total in rows}


def test_stock_counts_are_count_adjustments_that_agree_with_the_api(db):
    rows = [("MUG", "MAIN", 7), ("MUG", "BACK", 2), ("CUP", "MAIN", 3), ("BAG", "MAIN", 0)]
    shops = []
    for prefix in ("A-", "B-"):
        shop = import_shop()
        stocked(shop, prefix + "MUG", 5)
        stocked(shop, prefix + "CUP", 3)
        stocked(shop, prefix + "BAG", 4)
        shops.append(shop)
    by_file, by_api = shops
    text = "sku,warehouse,counted_quantity\n" + "".join(f"A-{s},{w},{q}\n" for s, w, q in rows)
    job = applied(by_file.tenant.staff, by_file.company.pk, "stock_counts", text)
    assert job["status"] == "applied"
    assert job["counts"] == {"create": 0, "update": 3, "unchanged": 1, "error": 0}
    warehouses = {"MAIN": by_api.main.pk, "BACK": by_api.back.pk}
    products = {p.sku[2:]: p.pk for p in by_api.company.products.all()}
    for sku, code, quantity in rows:
        response = by_api.tenant.staff.post(
            "/api/stock/adjustments",
            {
                "product_id": products[sku],
                "warehouse_id": warehouses[code],
                "reason": "count",
                "counted_quantity": quantity,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
    assert levels(by_file.company) == levels(by_api.company)
    assert ledger_sums(by_file.company) == ledger_sums(by_api.company)
    movements = StockMovement.objects.filter(company=by_file.company)
    assert {m.adjustment_reason for m in movements} == {AdjustmentReason.COUNT}
    assert {m.external_reference for m in movements} == {f"import:{job['id']}"}
    verify_stock()


def test_stock_count_errors(shop, other_shop):
    stocked(shop, "MUG", 1)
    stocked(other_shop, "THEIRS", 1)
    text = (
        "sku,warehouse,counted_quantity\n"
        "MUG,MAIN,-2\n"
        "MUG,NOPE,1\n"
        "THEIRS,MAIN,1\n"
        "MUG,BACK,2.5\n"
        "MUG,BACK,1\n"
        "MUG,BACK,1\n"
    )
    job = validated(shop.tenant.staff, shop.company.pk, "stock_counts", text)
    assert codes(job) == [
        (2, "counted_quantity", "invalid_quantity"),
        (3, "warehouse", "unknown_warehouse"),
        (4, "sku", "unknown_product"),
        (5, "counted_quantity", "invalid_quantity"),
        (6, "sku", "duplicate"),
        (7, "sku", "duplicate"),
    ]


def test_sales_history_takes_no_stock(shop):
    mug = stocked(shop, "MUG", 10, price=Decimal("4.00"))
    text = (
        "sku,warehouse,quantity,unit_price,sold_at\n"
        "MUG,MAIN,3,3.50,2026-01-05T10:00:00Z\n"
        "MUG,MAIN,2,,2026-01-06\n"
    )
    job = applied(shop.tenant.staff, shop.company.pk, "sales", text)
    assert job["counts"]["create"] == 2
    sales = list(Sale.objects.filter(product=mug).order_by("sold_at"))
    assert [(s.quantity, s.unit_price) for s in sales] == [
        (3, Decimal("3.50")),
        (2, Decimal("4.00")),
    ]
    assert StockLevel.objects.get(product=mug).quantity == 10
    assert not LedgerEntry.objects.filter(reason="sale").exists()
    verify_stock()


def test_sales_errors(shop, other_shop):
    stocked(shop, "MUG", 10)
    catalog.create_warehouse(company=other_shop.company, name="Theirs", code="THEIRS")
    text = (
        "sku,warehouse,quantity,unit_price,sold_at\n"
        "MUG,MAIN,0,1.00,2026-01-05\n"
        "MUG,MAIN,1,1.001,2026-01-05\n"
        "MUG,MAIN,1,1.00,yesterday\n"
        "MUG,MAIN,1,1.00,2999-01-01\n"
        "MUG,MAIN,-1,1.00,2026-01-05\n"
        "MUG,MAIN,1.5,1.00,2026-01-05\n"
        "MUG,THEIRS,1,1.00,2026-01-05\n"
    )
    job = validated(shop.tenant.staff, shop.company.pk, "sales", text)
    assert job["status"] == "invalid"
    assert codes(job) == [
        (2, "quantity", "invalid_quantity"),
        (3, "unit_price", "invalid_amount"),
        (4, "sold_at", "invalid"),
        (5, "sold_at", "invalid"),
        (6, "quantity", "invalid_quantity"),
        (7, "quantity", "invalid_quantity"),
        (8, "warehouse", "unknown_warehouse"),
    ]


def test_suppliers_and_links(shop):
    catalog.create_supplier(company=shop.company, name="Acme", contact_email="old@acme.test")
    job = applied(
        shop.tenant.admin,
        shop.company.pk,
        "suppliers",
        "name,contact_email,phone\nAcme,sales@acme.test,\nBeans Ltd,beans@example.com,123\n",
    )
    assert job["counts"] == {"create": 1, "update": 1, "unchanged": 0, "error": 0}
    assert Supplier.objects.get(name="Acme").contact_email == "sales@acme.test"
    stocked(shop, "MUG")
    text = (
        "sku,supplier,supplier_sku,unit_cost,lead_time_days,is_primary\n"
        "MUG,acme,AC-1,1.2345,5,true\n"
        "MUG,beans@example.com,,2,3,false\n"
    )
    job = applied(shop.tenant.admin, shop.company.pk, "product_suppliers", text)
    assert job["counts"]["create"] == 2
    primary = ProductSupplier.objects.get(is_primary=True)
    assert (primary.supplier.name, primary.unit_cost, primary.lead_time_days) == (
        "Acme",
        Decimal("1.2345"),
        5,
    )
    again = validated(shop.tenant.admin, shop.company.pk, "product_suppliers", text + "\n")
    assert again["counts"] == {"create": 0, "update": 0, "unchanged": 2, "error": 0}


def test_link_errors(shop):
    stocked(shop, "MUG")
    catalog.create_supplier(company=shop.company, name="Acme")
    catalog.create_supplier(company=shop.company, name="Beans")
    text = (
        "sku,supplier,unit_cost,is_primary\n"
        "MUG,Nobody,1,false\n"
        "MUG,Acme,1.00001,yes\n"
        "MUG,Beans,1,yes\n"
        "NOPE,Acme,1,no\n"
    )
    job = validated(shop.tenant.admin, shop.company.pk, "product_suppliers", text)
    assert codes(job) == [
        (2, "supplier", "unknown_supplier"),
        (3, "unit_cost", "invalid_amount"),
        (4, "is_primary", "duplicate_primary"),
        (5, "sku", "unknown_product"),
    ]
