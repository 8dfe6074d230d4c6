"""Exports: CSV streamed, XLSX up to a limit, tenant scoping and filters, formula cells
neutralised, and a products export that re-imports unchanged."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from stockflow.catalog import services as catalog
from stockflow.inventory import movements
from tests.factories import assert_error
from tests.factories.imports import stocked, validated

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def export(client, company_id, name, **params):
    return client.get(f"/api/companies/{company_id}/exports/{name}", params)


def test_products_export_reimports_unchanged(shop):
    kitchen = catalog.create_product_type(company=shop.company, name="Kitchen")
    stocked(shop, "MUG-1", 4, price=Decimal("9.90"), product_type=kitchen, description="Blue")
    stocked(shop, "CUP-1", 0, low_stock_threshold=3)
    rows = read_csv(export(shop.tenant.viewer, shop.company.pk, "products"))
    assert rows[0] == [
        "sku",
        "name",
        "description",
        "price",
        "product_type",
        "low_stock_threshold",
        "stock:BACK",
        "stock:MAIN",
        "total_stock",
    ]
    assert rows[1] == ["MUG-1", "Mug-1", "Blue", "9.90", "Kitchen", "", "", "4", "4"]
    content = "\n".join(",".join(row) for row in rows)
    job = validated(shop.tenant.admin, shop.company.pk, "products", content)
    assert job["status"] == "valid", job["errors"]
    assert job["counts"] == {"create": 0, "update": 0, "unchanged": 2, "error": 0}


def test_formula_cells_are_neutralised(shop):
    stocked(shop, "EVIL-1", name='=HYPERLINK("http://x")')
    stocked(shop, "EVIL-2", name="+1", description="@SUM(A1)")
    rows = read_csv(export(shop.tenant.viewer, shop.company.pk, "products"))
    names = {row[0]: (row[1], row[2]) for row in rows[1:]}
    assert names["EVIL-1"][0] == '\'=HYPERLINK("http://x")'
    assert names["EVIL-2"] == ("'+1", "'@SUM(A1)")
    from openpyxl import load_workbook

    response = export(shop.tenant.viewer, shop.company.pk, "products", format="xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    cells = {row[0]: row[1:3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert cells == {"EVIL-1": ('\'=HYPERLINK("http://x")', None), "EVIL-2": ("'+1", "'@SUM(A1)")}
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_exports_are_scoped_and_filtered(shop, other_shop):
    mug = stocked(shop, "MUG-1", 5)
    stocked(shop, "CUP-1", 1)
    stocked(other_shop, "THEIRS-1", 9)
    movements.receive_stock(product=mug, warehouse=shop.back, quantity=2)
    rows = read_csv(export(shop.tenant.viewer, shop.company.pk, "stock_levels"))
    assert sorted((r[0], r[1], r[2]) for r in rows[1:]) == [
        ("CUP-1", "MAIN", "1"),
        ("MUG-1", "BACK", "2"),
        ("MUG-1", "MAIN", "5"),
    ]
    rows = read_csv(export(shop.tenant.viewer, shop.company.pk, "ledger", reason="receipt"))
    assert [(r[2], r[3], r[4], r[6]) for r in rows[1:]] == [("MUG-1", "BACK", "2", "receipt")]
    rows = read_csv(
        export(
            shop.tenant.viewer,
            shop.company.pk,
            "ledger",
            product_id=mug.pk,
            warehouse_id=shop.main.pk,
        )
    )
    assert [(r[2], r[4]) for r in rows[1:]] == [("MUG-1", "5")]
    assert_error(export(shop.tenant.viewer, other_shop.company.pk, "products"), 404, "not_found")
    assert_error(
        export(shop.tenant.viewer, shop.company.pk, "ledger", created_after="soon"),
        400,
        "validation_error",
    )


def test_keyset_chunks_cover_every_row(shop, monkeypatch):
    from stockflow.dataio import exports

    monkeypatch.setattr(exports, "CHUNK_ROWS", 2)
    for n in range(5):
        stocked(shop, f"P-{n}", n)
    rows = read_csv(export(shop.tenant.viewer, shop.company.pk, "products"))
    assert [r[0] for r in rows[1:]] == [f"P-{n}" for n in range(5)]


def test_xlsx_and_its_row_limit(shop, settings):
    from openpyxl import load_workbook

    stocked(shop, "MUG-1", 5, price=Decimal("9.90"))
    stocked(shop, "CUP-1", 1)
    response = export(shop.tenant.viewer, shop.company.pk, "products", format="xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[1][:4] == ["MUG-1", "Mug-1", None, "9.90"]
    settings.STOCKFLOW_EXPORT_XLSX_MAX_ROWS = 1
    assert_error(
        export(shop.tenant.viewer, shop.company.pk, "products", format="xlsx"),
        400,
        "too_many_rows",
    )


def test_sales_and_low_stock(shop):
    from stockflow.inventory.sales import record_sale

    mug = stocked(shop, "MUG-1", 5, low_stock_threshold=4)
    record_sale(product=mug, warehouse=shop.main, quantity=2)
    rows = read_csv(export(shop.tenant.viewer, shop.company.pk, "sales"))
    assert [(r[2], r[3], r[4]) for r in rows[1:]] == [("MUG-1", "MAIN", "2")]
    rows = read_csv(export(shop.tenant.viewer, shop.company.pk, "low_stock", days=7))
    assert rows[0][:5] == ["sku", "product_name", "warehouse_name", "current_stock", "threshold"]
    assert [(r[0], r[3], r[4]) for r in rows[1:]] == [("MUG-1", "3", "4")]


def test_stock_levels_export_shows_threshold_and_what_is_on_order(shop):
    from tests.factories.catalog import make_supplier
    from tests.factories.purchasing import draft, placed, receive

    mug = stocked(shop, "MUG-1", 2, low_stock_threshold=5)
    supplier = make_supplier(shop.company)
    order = placed(supplier, shop.main, (mug, 10, "1.00"), expected_date=date(2031, 5, 1))
    receive(order, {mug: 3})
    draft(supplier, shop.main, (mug, 4))
    rows = read_csv(export(shop.tenant.viewer, shop.company.pk, "stock_levels"))
    assert rows[0] == [
        "sku",
        "warehouse",
        "quantity",
        "low_stock_threshold",
        "on_order",
        "on_draft",
        "next_expected_date",
        "updated_at",
    ]
    # 3 received of 10: 5 units in stock, 7 still to come, 4 more on a draft.
    assert [row[:7] for row in rows[1:]] == [["MUG-1", "MAIN", "5", "5", "7", "4", "2031-05-01"]]
    cup = stocked(shop, "CUP-1", 1, low_stock_threshold=2)
    for below, sku in (("true", cup.sku), ("false", mug.sku)):
        rows = read_csv(
            export(shop.tenant.viewer, shop.company.pk, "stock_levels", below_threshold=below)
        )
        assert [row[0] for row in rows[1:]] == [sku]


def order_rows(client, company_id, **params) -> list[dict]:
    rows = read_csv(export(client, company_id, "purchase_orders", **params))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_purchase_orders_export_one_row_per_line_with_the_order_repeated(
    shop, other_shop, django_assert_max_num_queries, monkeypatch
):
    from stockflow.dataio import exports
    from tests.factories.catalog import make_supplier
    from tests.factories.purchasing import draft, placed, receive

    mug, cup = stocked(shop, "MUG-1"), stocked(shop, "CUP-1", name="=1+1")
    acme = make_supplier(shop.company, "Acme", contact_email="sales@acme.test")
    beans = make_supplier(shop.company, "Beans")
    first = placed(
        acme, shop.main, (mug, 10, "1.505"), (cup, 3, "2"), expected_date=date(2020, 1, 2)
    )
    receive(first, {mug: 4})
    empty = draft(beans, shop.back)
    priced_later = draft(beans, shop.main, (cup, 2))
    stocked(other_shop, "THEIRS-1")
    placed(
        make_supplier(other_shop.company),
        other_shop.main,
        (other_shop.company.products.get(), 1, "1"),
    )

    monkeypatch.setattr(exports, "ORDERS_PER_CHUNK", 2)  # orders cross chunks; no query per row
    with django_assert_max_num_queries(11):
        rows = order_rows(shop.tenant.viewer, shop.company.pk)
    assert list(rows[0]) == [*exports.ORDER_COLUMNS, *exports.ORDER_LINE_COLUMNS]
    assert [(r["number"], r["sku"]) for r in rows] == [
        (first.number, "MUG-1"),
        (first.number, "CUP-1"),
        (empty.number, ""),
        (priced_later.number, "CUP-1"),
    ]
    mug_line, cup_line, no_line, unpriced = rows
    assert mug_line | {"created_at": "", "ordered_at": ""} == {
        "number": first.number,
        "status": "partially_received",
        "supplier": "Acme",
        "supplier_email": "sales@acme.test",
        "warehouse": "MAIN",
        "expected_date": "2020-01-02",
        "overdue": "True",
        "created_at": "",
        "ordered_at": "",
        "received_at": "",
        "order_total": "21.0500",
        "sku": "MUG-1",
        "product_name": "Mug-1",
        "quantity_ordered": "10",
        "quantity_received": "4",
        "quantity_remaining": "6",
        "unit_cost": "1.5050",
        "line_total": "15.0500",
    }
    assert mug_line["ordered_at"]
    assert (cup_line["product_name"], cup_line["line_total"]) == ("'=1+1", "6.0000")
    assert (no_line["status"], no_line["warehouse"], no_line["quantity_ordered"]) == (
        "draft",
        "BACK",
        "",
    )
    assert (unpriced["unit_cost"], unpriced["line_total"], unpriced["order_total"]) == ("", "", "")

    def numbers(**params):
        return sorted(
            {r["number"] for r in order_rows(shop.tenant.viewer, shop.company.pk, **params)}
        )

    assert numbers(status="draft") == sorted([empty.number, priced_later.number])
    assert numbers(supplier_id=acme.pk) == [first.number]
    # The filter joins the lines: still one row per line, none repeated.
    rows = order_rows(shop.tenant.viewer, shop.company.pk, product_id=cup.pk)
    assert [(r["number"], r["sku"]) for r in rows] == [
        (first.number, "MUG-1"),
        (first.number, "CUP-1"),
        (priced_later.number, "CUP-1"),
    ]
    assert numbers(overdue="true") == [first.number]
    assert numbers(expected_after="2021-01-01") == []
    assert_error(
        export(shop.tenant.viewer, shop.company.pk, "purchase_orders", status="lost"),
        400,
        "validation_error",
    )
    assert_error(
        export(shop.tenant.viewer, other_shop.company.pk, "purchase_orders"), 404, "not_found"
    )


def test_purchase_orders_xlsx_counts_rows_not_orders(shop, settings):
    from openpyxl import load_workbook

    from tests.factories.catalog import make_supplier
    from tests.factories.purchasing import draft

    mug, cup = stocked(shop, "MUG-1"), stocked(shop, "CUP-1")
    supplier = make_supplier(shop.company)
    order = draft(supplier, shop.main, (mug, 2, "1.25"), (cup, 1))
    draft(supplier, shop.main)
    response = export(shop.tenant.viewer, shop.company.pk, "purchase_orders", format="xlsx")
    assert response.status_code == 200, response.content
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [(row[0], row[11]) for row in values[1:]] == [
        (order.number, "MUG-1"),
        (order.number, "CUP-1"),
        (f"PO-{int(order.number[3:]) + 1:06d}", None),
    ]
    settings.STOCKFLOW_EXPORT_XLSX_MAX_ROWS = 2  # two orders, three rows
    assert_error(
        export(shop.tenant.viewer, shop.company.pk, "purchase_orders", format="xlsx"),
        400,
        "too_many_rows",
    )
