"""Importing products with opening stock: the dry run, then the apply, all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockflow.catalog.models import Product, ProductType
from stockflow.dataio import services
from stockflow.inventory.models import LedgerEntry, ReferenceType, StockLevel
from tests.factories import assert_error
from tests.factories.imports import applied, codes, stocked, upload, validated, verify_stock

pytestmark = pytest.mark.django_db

PRODUCTS = (
    "sku,name,price,product_type,low_stock_threshold,description,stock:MAIN,stock:BACK\n"
    'MUG-1,Mug,9.90,Kitchen,5,"A mug, blue",10,3\n'
    "BAG-1,Coffee bag,4.50,Food,,,0,\n"
)


def test_dry_run_counts_and_writes_nothing(shop):
    stocked(shop, "MUG-1", 10, name="Mug", price=Decimal("9.90"))
    stocked(shop, "CUP-1", 2, name="Cup", price=Decimal("3.00"))
    text = "sku,name,price,stock:MAIN\nMUG-1,Mug,9.95,10\nCUP-1,Cup,3.00,2\nBAG-1,Bag,1.00,5\n"
    job = validated(shop.tenant.admin, shop.company.pk, "products", text)
    assert job["status"] == "valid"
    assert job["rows_total"] == job["rows_done"] == 3
    assert job["counts"] == {"create": 1, "update": 1, "unchanged": 1, "error": 0}
    assert not Product.objects.filter(sku="BAG-1").exists()
    assert Product.objects.get(sku="MUG-1").price == Decimal("9.90")


def test_apply_creates_products_types_and_opening_stock_in_the_ledger(shop):
    job = applied(shop.tenant.admin, shop.company.pk, "products", PRODUCTS)
    assert job["status"] == "applied", job
    mug = Product.objects.get(sku="MUG-1")
    assert mug.price == Decimal("9.90") and mug.description == "A mug, blue"
    assert mug.low_stock_threshold == 5
    assert mug.product_type.name == "Kitchen"
    assert ProductType.objects.filter(company=shop.company, name="Food").exists()
    levels = dict(StockLevel.objects.filter(product=mug).values_list("warehouse__code", "quantity"))
    assert levels == {"MAIN": 10, "BACK": 3}
    entries = LedgerEntry.objects.filter(product=mug)
    assert {(e.reference_type, e.reference_id) for e in entries} == {
        (ReferenceType.IMPORT, job["id"])
    }
    verify_stock()


def test_semicolon_bom_and_quotes(shop):
    text = '\ufeffsku;name;price;stock:MAIN\n"S;1";"Name; with ""quotes""";1.50;2\n'
    job = applied(shop.tenant.admin, shop.company.pk, "products", text)
    product = Product.objects.get(sku="S;1")
    assert product.name == 'Name; with "quotes"'
    assert job["counts"]["create"] == 1


def test_xlsx(shop):
    from io import BytesIO

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["sku", "name", "price", "stock:MAIN"])
    sheet.append(["X-1", "Excel", 19.99, 7])
    buffer = BytesIO()
    workbook.save(buffer)
    response = upload(
        shop.tenant.admin, shop.company.pk, "products", buffer.getvalue(), name="p.xlsx"
    )
    assert response.status_code == 201
    services.validate_job(shop.company.pk, response.json()["id"])
    services.apply_job(shop.company.pk, services.start_apply(services.ImportJob.objects.get()).pk)
    product = Product.objects.get(sku="X-1")
    assert product.price == Decimal("19.99")
    assert StockLevel.objects.get(product=product).quantity == 7


def test_the_same_file_twice_is_the_same_job(shop):
    first = upload(shop.tenant.admin, shop.company.pk, "products", PRODUCTS)
    again = upload(shop.tenant.admin, shop.company.pk, "products", PRODUCTS)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


def test_every_bad_row_is_reported_and_nothing_is_applied(shop, other_shop):
    stocked(other_shop, "TAKEN-1")
    text = (
        "sku,name,price,stock:MAIN\n"
        "A-1,Ok,1.00,1\n"
        "A-1,Again,1.00,1\n"  # duplicate SKU in the file
        "TAKEN-1,Theirs,1.00,1\n"  # SKU of another company
        "B-1,Neg,1.00,-1\n"
        "B-2,Frac,1.00,1.5\n"
        "B-3,Price,1.999,1\n"
        "B-4,,,\n"
    )
    job = validated(shop.tenant.admin, shop.company.pk, "products", text)
    assert job["status"] == "invalid"
    assert codes(job) == [
        (3, "sku", "duplicate"),
        (4, "sku", "sku_conflict"),
        (5, "stock:MAIN", "invalid_quantity"),
        (6, "stock:MAIN", "invalid_quantity"),
        (7, "price", "invalid_amount"),
        (8, "name", "required"),
        (8, "price", "required"),
    ]
    apply = shop.tenant.admin.post(f"/api/imports/{job['id']}/apply")
    assert_error(apply, 409, "import_not_valid")
    assert not Product.objects.filter(company=shop.company).exists()
    # The row's code is the API's answer to the same SKU.
    taken = {"name": "Theirs", "sku": "TAKEN-1", "price": "1.00", "warehouse_id": shop.main.pk}
    taken["initial_quantity"] = 1
    assert_error(shop.tenant.admin.post("/api/products", taken, format="json"), 409, "sku_conflict")


def test_a_warehouse_code_of_another_company_is_unknown(shop, other_shop):
    from stockflow.catalog import services as catalog

    catalog.create_warehouse(company=other_shop.company, name="Theirs", code="THEIRS")
    job = validated(
        shop.tenant.admin, shop.company.pk, "products", "sku,name,price,stock:THEIRS\nA,A,1,1\n"
    )
    assert codes(job) == [(1, "stock:THEIRS", "unknown_warehouse")]


def test_unknown_column_and_header_only(shop):
    job = validated(shop.tenant.admin, shop.company.pk, "products", "sku,name,price,colour\n")
    assert codes(job) == [(1, "colour", "unknown_column")]
    job = validated(shop.tenant.admin, shop.company.pk, "products", "sku,name,price\n")
    assert codes(job) == [(2, "", "no_rows")]


def test_empty_and_undecodable_files_are_400(shop):
    assert_error(
        upload(shop.tenant.admin, shop.company.pk, "products", b""), 400, "unreadable_file"
    )
    error = assert_error(
        upload(shop.tenant.admin, shop.company.pk, "products", b"sku,name,price\nA,\xff\xfe,1\n"),
        400,
        "unreadable_file",
    )
    assert "Line 2" in error["message"]


def test_a_file_above_the_limit_is_413(shop, settings):
    settings.STOCKFLOW_IMPORT_MAX_BYTES = 50 * 1024 * 1024
    big = b"sku,name,price\n" + b"A" * (60 * 1024 * 1024)
    assert_error(
        upload(shop.tenant.admin, shop.company.pk, "products", big), 413, "request_too_large"
    )


def test_too_many_rows(shop, settings):
    settings.STOCKFLOW_IMPORT_MAX_ROWS = 2
    text = "sku,name,price\nA,A,1\nB,B,1\nC,C,1\n"
    assert_error(upload(shop.tenant.admin, shop.company.pk, "products", text), 400, "too_many_rows")


def test_a_row_refused_at_apply_time_writes_nothing(shop, other_shop):
    job = validated(
        shop.tenant.admin,
        shop.company.pk,
        "products",
        "sku,name,price,stock:MAIN\nA,A,1,1\nZ,Z,1,2\n",
    )
    assert job["status"] == "valid"
    stocked(other_shop, "Z")  # taken meanwhile by another company
    shop.tenant.admin.post(f"/api/imports/{job['id']}/apply")
    services.apply_job(shop.company.pk, job["id"])
    job = shop.tenant.admin.get(f"/api/imports/{job['id']}").json()
    assert job["status"] == "failed"
    assert codes(job) == [(3, "sku", "sku_conflict")]
    assert not Product.objects.filter(company=shop.company).exists()
    assert not LedgerEntry.objects.filter(company=shop.company).exists()


def test_existing_product_stock_cannot_be_reset_by_a_products_import(shop):
    stocked(shop, "MUG-1", 4)
    job = validated(
        shop.tenant.admin,
        shop.company.pk,
        "products",
        "sku,name,price,stock:MAIN\nMUG-1,Mug-1,5.00,9\n",
    )
    assert codes(job) == [(2, "stock:MAIN", "stock_exists")]
