"""Products: list, filters, ordering, pagination, read, update, delete."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockflow.catalog.models import Product, ProductSupplier
from stockflow.inventory.models import StockLevel
from tests.factories import (
    PRODUCT_WRITE_BUDGET,
    add_component,
    assert_error,
    catalog_state,
    make_bundle,
    make_product,
    make_product_type,
    make_supplier,
    make_warehouse,
    past_sale,
    patch_raw,
    put_stock,
)

URL = "/api/products"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


# --- list -----------------------------------------------------------------------------------


def test_list_shows_only_the_callers_companies(tenant_a, tenant_b):
    mine = make_product(tenant_a.company, "A-1")
    make_product(tenant_b.company, "B-1")

    assert ids(tenant_a.viewer.get(URL)) == [mine.pk]
    assert ids(tenant_a.viewer.get(URL, {"company_id": tenant_b.company.pk})) == []


def test_list_filters(tenant_a):
    main = make_warehouse(tenant_a.company, "MAIN")
    east = make_warehouse(tenant_a.company, "EAST")
    mugs = make_product_type(tenant_a.company, "Mugs")
    mug = make_product(tenant_a.company, "MUG-1", warehouse=main, name="Blue mug", price="5.00")
    bag = make_product(tenant_a.company, "BAG-1", warehouse=east, name="Coffee bag", price="12.50")
    kit = make_bundle(tenant_a.company, "KIT-1", name="Gift box", price="30.00")
    old = make_product(tenant_a.company, "OLD-1", warehouse=main, product_type=mugs, price="1")
    Product.objects.filter(pk=old.pk).update(is_active=False)
    supplier = make_supplier(tenant_a.company)
    ProductSupplier.objects.create(company=tenant_a.company, product=bag, supplier=supplier)

    def listed(**params):
        return ids(tenant_a.viewer.get(URL, params))

    assert listed(company_id=tenant_a.company.pk) == [mug.pk, bag.pk, kit.pk, old.pk]
    assert listed(sku="MUG-1") == [mug.pk]
    assert listed(name="mug") == [mug.pk]
    assert listed(q="bag") == [bag.pk]
    assert listed(is_bundle="true") == [kit.pk]
    assert listed(is_active="false") == [old.pk]
    assert listed(product_type_id=mugs.pk) == [old.pk]
    assert listed(price_min="10", price_max="20") == [bag.pk]
    assert listed(warehouse_id=east.pk) == [bag.pk]
    assert listed(supplier_id=supplier.pk) == [bag.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"company_id": "acme"},
        {"company_id": "1.5"},
        {"is_active": "perhaps"},
        {"price_min": "cheap"},
        {"warehouse_id": "main"},
    ],
)
def test_bad_filter_is_400(tenant_a, params):
    assert_error(tenant_a.viewer.get(URL, params), 400, "validation_error")


@pytest.mark.parametrize("value", [str(10**30), "0", "-3"])
def test_out_of_range_id_filter_is_400_not_500(tenant_a, value):
    make_product(tenant_a.company)
    assert_error(tenant_a.viewer.get(URL, {"company_id": value}), 400, "validation_error")


def test_ordering_and_pagination(tenant_a):
    warehouse = make_warehouse(tenant_a.company)
    for sku, price in [("C", "3.00"), ("A", "1.00"), ("B", "2.00")]:
        make_product(tenant_a.company, sku, warehouse=warehouse, price=price)

    by_sku = tenant_a.viewer.get(URL, {"ordering": "sku"}).json()["results"]
    assert [p["sku"] for p in by_sku] == ["A", "B", "C"]
    by_price = tenant_a.viewer.get(URL, {"ordering": "-price"}).json()["results"]
    assert [p["price"] for p in by_price] == ["3.00", "2.00", "1.00"]

    page = tenant_a.viewer.get(URL, {"ordering": "sku", "page_size": 2, "page": 2}).json()
    assert page["count"] == 3
    assert [p["sku"] for p in page["results"]] == ["C"]
    assert_error(tenant_a.viewer.get(URL, {"page": 9}), 404, "not_found")


def build_catalog(company, products: int) -> None:
    warehouses = [make_warehouse(company) for _ in range(3)]
    kind = make_product_type(company, low_stock_threshold=4)
    components = []
    for n in range(products):
        product = make_product(
            company, warehouse=warehouses[n % 3], quantity=n + 1, product_type=kind
        )
        put_stock(product, warehouses[(n + 1) % 3], 10)
        components.append(product)
    for n in range(0, products - 1, 2):
        bundle = make_bundle(company)
        add_component(bundle, components[n], 1)
        add_component(bundle, components[n + 1], 2)
        outer = make_bundle(company)
        add_component(outer, bundle, 2)


def test_list_runs_a_fixed_number_of_queries(tenant_a, django_assert_max_num_queries):
    build_catalog(tenant_a.company, 4)
    tenant_a.viewer.get(URL)  # warm up: token, memberships
    with django_assert_max_num_queries(8) as small:
        small_page = tenant_a.viewer.get(URL, {"page_size": 500})
    build_catalog(tenant_a.company, 30)
    with django_assert_max_num_queries(8) as large:
        large_page = tenant_a.viewer.get(URL, {"page_size": 500})

    assert len(large_page.json()["results"]) > 3 * len(small_page.json()["results"])
    assert len(large.captured_queries) == len(small.captured_queries)


# --- representation ---------------------------------------------------------------------------


def test_effective_threshold(tenant_a):
    kind = make_product_type(tenant_a.company, low_stock_threshold=20)
    inherits = make_product(tenant_a.company, product_type=kind)
    overrides = make_product(tenant_a.company, product_type=kind, low_stock_threshold=5)
    none = make_product(tenant_a.company)

    def shown(product):
        data = tenant_a.viewer.get(f"{URL}/{product.pk}").json()
        return data["low_stock_threshold"], data["effective_threshold"]

    assert shown(inherits) == (None, 20)
    assert shown(overrides) == (5, 5)
    assert shown(none) == (None, None)


def test_bundle_availability_per_warehouse_nested_multiplied_out(tenant_a):
    main = make_warehouse(tenant_a.company, "MAIN")
    east = make_warehouse(tenant_a.company, "EAST")
    mug = make_product(tenant_a.company, "MUG", warehouse=main, quantity=7)
    coffee = make_product(tenant_a.company, "COFFEE", warehouse=main, quantity=20)
    put_stock(mug, east, 100)  # no coffee in EAST at all
    box = make_bundle(tenant_a.company, "BOX")
    add_component(box, mug, 1)
    add_component(box, coffee, 2)
    crate = make_bundle(tenant_a.company, "CRATE")
    add_component(crate, box, 3)  # 3 mugs, 6 coffee bags
    add_component(crate, mug, 1)  # 4 mugs in all

    box_data = tenant_a.viewer.get(f"{URL}/{box.pk}").json()
    crate_data = tenant_a.viewer.get(f"{URL}/{crate.pk}").json()

    assert box_data["stock"] == [
        {"warehouse_id": main.pk, "available": 7},  # min(7 // 1, 20 // 2)
        {"warehouse_id": east.pk, "available": 0},  # no coffee there
    ]
    assert crate_data["stock"] == [
        {"warehouse_id": main.pk, "available": 1},  # min(7 // 4, 20 // 6)
        {"warehouse_id": east.pk, "available": 0},
    ]
    assert [(c["sku"], c["quantity"]) for c in crate_data["components"]] == [
        ("BOX", 3),
        ("MUG", 1),
    ]
    listed = {p["sku"]: p["stock"] for p in tenant_a.viewer.get(URL).json()["results"]}
    assert listed["BOX"] == box_data["stock"] and listed["CRATE"] == crate_data["stock"]


def test_bundle_without_components_has_no_stock(tenant_a):
    kit = make_bundle(tenant_a.company)
    data = tenant_a.viewer.get(f"{URL}/{kit.pk}").json()
    assert (data["stock"], data["components"]) == ([], [])


def test_other_companys_product_is_404(tenant_a, tenant_b):
    theirs = make_product(tenant_b.company)
    assert_error(tenant_a.viewer.get(f"{URL}/{theirs.pk}"), 404, "not_found")
    assert_error(tenant_a.owner.get(f"{URL}/{10**6}"), 404, "not_found")


# --- update -----------------------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(tenant_a):
    product = make_product(tenant_a.company, "A-1", description="kept", low_stock_threshold=3)
    response = patch_raw(tenant_a.admin, f"{URL}/{product.pk}", '{"price": 24.5, "name": "New"}')

    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["price"], data["name"], data["description"]) == ("24.50", "New", "kept")
    assert data["low_stock_threshold"] == 3
    product.refresh_from_db()
    assert product.price == Decimal("24.50")
    assert product.updated_at > product.created_at


def test_patch_sku_to_a_taken_one_is_409(tenant_a, tenant_b):
    product = make_product(tenant_a.company, "A-1")
    make_product(tenant_b.company, "B-1")
    before = catalog_state()
    response = tenant_a.admin.patch(f"{URL}/{product.pk}", {"sku": " B-1 "}, format="json")
    assert_error(response, 409, "sku_conflict")
    assert catalog_state() == before


def test_patch_sku_strips_spaces(tenant_a):
    product = make_product(tenant_a.company, "A-1")
    response = tenant_a.admin.patch(f"{URL}/{product.pk}", {"sku": "  A-2  "}, format="json")
    assert response.json()["sku"] == "A-2"


@pytest.mark.parametrize(
    "payload",
    [
        {"price": "-1"},
        {"price": "NaN"},
        {"price": "12.345"},
        {"sku": ""},
        {"name": ""},
        {"low_stock_threshold": -1},
        {"is_active": "sometimes"},
        {"company_id": 999},
    ],
)
def test_bad_patch_is_400_and_changes_nothing(tenant_a, payload):
    product = make_product(tenant_a.company)
    before = catalog_state()
    response = tenant_a.admin.patch(f"{URL}/{product.pk}", payload, format="json")
    error = assert_error(response, 400, "validation_error")
    assert set(error["fields"]) == set(payload)
    assert catalog_state() == before


def test_patch_product_type_of_another_company_is_400(tenant_a, tenant_b):
    product = make_product(tenant_a.company)
    foreign = make_product_type(tenant_b.company)
    before = catalog_state()
    response = tenant_a.admin.patch(
        f"{URL}/{product.pk}", {"product_type_id": foreign.pk}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert set(error["fields"]) == {"product_type_id"}
    assert catalog_state() == before


def test_deactivate_instead_of_delete(tenant_a):
    product = make_product(tenant_a.company, warehouse=make_warehouse(tenant_a.company), quantity=5)
    response = tenant_a.admin.patch(f"{URL}/{product.pk}", {"is_active": False}, format="json")
    assert response.json()["is_active"] is False
    assert response.json()["stock"][0]["quantity"] == 5


def test_product_without_history_becomes_a_bundle(tenant_a):
    product = make_product(tenant_a.company, warehouse=make_warehouse(tenant_a.company), quantity=0)
    response = tenant_a.admin.patch(
        f"{URL}/{product.pk}", {"is_bundle": True}, format="json", max_queries=PRODUCT_WRITE_BUDGET
    )
    assert response.status_code == 200, response.content
    assert response.json()["stock"] == []
    assert not StockLevel.objects.filter(product=product).exists()


def test_product_with_history_cannot_become_a_bundle(tenant_a):
    product = make_product(tenant_a.company, warehouse=make_warehouse(tenant_a.company), quantity=3)
    before = catalog_state()
    response = tenant_a.admin.patch(f"{URL}/{product.pk}", {"is_bundle": True}, format="json")
    assert_error(response, 409, "has_history")
    assert catalog_state() == before


def test_component_of_a_bundle_cannot_become_a_bundle(tenant_a):
    part = make_product(tenant_a.company, "PART")
    add_component(make_bundle(tenant_a.company, "KIT"), part)
    before = catalog_state()
    response = tenant_a.admin.patch(f"{URL}/{part.pk}", {"is_bundle": True}, format="json")
    error = assert_error(response, 409, "conflict")
    assert error["bundles"] == ["KIT"]
    assert catalog_state() == before


def test_bundle_with_components_cannot_stop_being_one(tenant_a):
    kit = make_bundle(tenant_a.company)
    add_component(kit, make_product(tenant_a.company), 2)
    before = catalog_state()
    response = tenant_a.admin.patch(f"{URL}/{kit.pk}", {"is_bundle": False}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert set(error["fields"]) == {"is_bundle"}
    assert catalog_state() == before


# --- delete -----------------------------------------------------------------------------------


def test_product_with_stock_history_cannot_be_deleted(tenant_a):
    product = make_product(tenant_a.company, warehouse=make_warehouse(tenant_a.company), quantity=5)
    before = catalog_state()
    error = assert_error(tenant_a.admin.delete(f"{URL}/{product.pk}"), 409, "has_history")
    assert "is_active=false" in error["message"]
    assert catalog_state() == before


def test_product_with_sales_cannot_be_deleted(tenant_a):
    warehouse = make_warehouse(tenant_a.company)
    product = make_product(tenant_a.company, warehouse=warehouse, quantity=0)
    past_sale(product, warehouse)
    before = catalog_state()
    assert_error(tenant_a.admin.delete(f"{URL}/{product.pk}"), 409, "has_history")
    assert catalog_state() == before


def test_product_without_history_is_deleted_with_its_empty_levels(tenant_a):
    product = make_product(tenant_a.company, warehouse=make_warehouse(tenant_a.company), quantity=0)
    link = ProductSupplier.objects.create(
        company=tenant_a.company, product=product, supplier=make_supplier(tenant_a.company)
    )
    response = tenant_a.admin.delete(f"{URL}/{product.pk}", max_queries=PRODUCT_WRITE_BUDGET)

    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not StockLevel.objects.filter(product_id=product.pk).exists()
    assert not ProductSupplier.objects.filter(pk=link.pk).exists()


def test_component_of_a_bundle_cannot_be_deleted(tenant_a):
    part = make_product(tenant_a.company, "PART")
    kit = make_bundle(tenant_a.company, "KIT")
    add_component(kit, part)
    before = catalog_state()
    error = assert_error(tenant_a.admin.delete(f"{URL}/{part.pk}"), 409, "conflict")
    assert error["bundles"] == ["KIT"]
    assert catalog_state() == before


def test_bundle_is_deleted_with_its_lines(tenant_a):
    kit = make_bundle(tenant_a.company)
    add_component(kit, make_product(tenant_a.company))
    deleted = tenant_a.admin.delete(f"{URL}/{kit.pk}", max_queries=PRODUCT_WRITE_BUDGET)
    assert deleted.status_code == 204
    assert not Product.objects.filter(pk=kit.pk).exists()


def test_other_companys_product_cannot_be_changed(tenant_a, tenant_b):
    theirs = make_product(tenant_b.company)
    before = catalog_state()
    assert_error(
        tenant_a.owner.patch(f"{URL}/{theirs.pk}", {"name": "x"}, format="json"), 404, "not_found"
    )
    assert_error(tenant_a.owner.delete(f"{URL}/{theirs.pk}"), 404, "not_found")
    assert catalog_state() == before
