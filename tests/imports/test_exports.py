"""Exports: CSV streamed, XLSX up to a limit, tenant scoping and filters, formula cells
neutralised, and a products export that re-imports unchanged."""

from __future__ import annotations

import csv
import io
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
