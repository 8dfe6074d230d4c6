"""A products import writes what the same rows sent one by one through the API write: the
same products and product types, stock levels (quantities and thresholds), ledger entries
(modulo ids, timestamps and what they refer to) and stock events. The import writes a chunk
in a few statements (``inventory.catalog_stock.create_products``, ``update_products``),
the API one product per request; on PostgreSQL both statement forms of ``bulkinsert``
(arrays from the first row on, ``INSERT`` below its threshold) are compared."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from stockflow import bulkinsert
from stockflow.catalog.models import Product, ProductType
from stockflow.inventory.models import LedgerEntry, StockEvent, StockLevel
from stockflow.inventory.movements import INITIAL_STOCK_NOTE, record_initial_stock
from tests.factories.catalog import make_product_type
from tests.factories.clients import query_budget
from tests.factories.imports import applied, import_shop, stocked, verify_stock

pytestmark = pytest.mark.django_db

ROWS = (
    "sku,name,price,product_type,low_stock_threshold,description,stock:MAIN,stock:BACK\n"
    '{p}NEW-1,Mug,9.90,Kitchen,5,"A mug, blue",10,3\n'  # own threshold, two warehouses
    "{p}NEW-2,Bag,4.50,Food,,,0,\n"  # a new type; a level holding 0
    "{p}NEW-3,Cup,3.00,kitchen,,,,7\n"  # the type's threshold; BACK only
    "{p}NEW-4,Plate,2.00,,,,,\n"  # no stock cell: the first warehouse, empty
    "{p}OLD-1,Old renamed,6.00,Food,2,,4,\n"  # updated: name, price, type, threshold
    "{p}OLD-2,Old two,5.00,,,,,\n"  # unchanged
    "{p}OLD-3,Old three,5.00,Kitchen,,,,\n"  # updated: its type's threshold reaches levels
)


def prepared_shop(prefix: str):
    shop = import_shop()
    shop.kitchen = make_product_type(shop.company, "Kitchen", low_stock_threshold=3)
    for suffix, quantity, name in (("OLD-1", 4, "Old one"), ("OLD-2", 0, "Old two")):
        stocked(shop, prefix + suffix, quantity, name=name, price=Decimal("5.00"))
    stocked(shop, prefix + "OLD-3", 2, name="Old three", price=Decimal("5.00"))
    return shop


def through_the_api(shop, prefix: str) -> None:
    """The rows of ``ROWS``, one request each, as a client would send them (a creation
    that records a stock event runs a few queries more than the default budget)."""
    with query_budget(25):
        send(shop, prefix)


def send(shop, prefix: str) -> None:
    client, company_id = shop.tenant.admin, shop.company.pk

    def create(sku, warehouse, quantity, **fields):
        body = {"sku": prefix + sku, "warehouse_id": warehouse.pk, "initial_quantity": quantity}
        response = client.post("/api/products", {**body, **fields}, format="json")
        assert response.status_code == 201, response.content
        return Product.objects.get(pk=response.json()["id"])

    def update(sku, **fields):
        product = Product.objects.get(sku=prefix + sku)
        response = client.patch(f"/api/products/{product.pk}", fields, format="json")
        assert response.status_code == 200, response.content

    mug = create(
        "NEW-1",
        shop.main,
        10,
        name="Mug",
        price="9.90",
        product_type_id=shop.kitchen.pk,
        low_stock_threshold=5,
        description="A mug, blue",
    )
    # The API opens a product's stock in one warehouse; the opening level of another is
    # written by the service that the product creation uses.
    record_initial_stock(
        product=mug,
        warehouse=shop.back,
        quantity=3,
        actor=shop.tenant.users["admin"],
        note=INITIAL_STOCK_NOTE,
    )
    food = client.post("/api/product-types", {"company_id": company_id, "name": "Food"})
    assert food.status_code == 201, food.content
    food_id = food.json()["id"]
    create("NEW-2", shop.main, 0, name="Bag", price="4.50", product_type_id=food_id)
    create("NEW-3", shop.back, 7, name="Cup", price="3.00", product_type_id=shop.kitchen.pk)
    create("NEW-4", shop.main, 0, name="Plate", price="2.00")
    update(
        "OLD-1", name="Old renamed", price="6.00", product_type_id=food_id, low_stock_threshold=2
    )
    update("OLD-3", product_type_id=shop.kitchen.pk)


def state(shop, prefix: str) -> dict:
    """What the company holds, its SKUs without ``prefix``, its users by role."""
    company = shop.company
    roles = {user.pk: role for role, user in shop.tenant.users.items()}

    def sku(product: Product) -> str:
        return product.sku.removeprefix(prefix)

    products = {
        sku(p): (
            p.name,
            p.price,
            p.description,
            p.product_type.name if p.product_type else None,
            p.low_stock_threshold,
            p.is_bundle,
            p.is_active,
        )
        for p in Product.objects.filter(company=company).select_related("product_type")
    }
    levels = {
        (sku(level.product), level.warehouse.code): (level.quantity, level.low_stock_threshold)
        for level in StockLevel.objects.filter(company=company).select_related(
            "product", "warehouse"
        )
    }
    entries = LedgerEntry.objects.filter(company=company).select_related("product", "warehouse")
    sums: Counter = Counter()
    rows = []
    for entry in entries.order_by("id"):
        place = (sku(entry.product), entry.warehouse.code)
        sums[place] += entry.change
        rows.append(
            (
                *place,
                entry.change,
                entry.quantity_after,
                entry.reason,
                entry.adjustment_reason,
                roles.get(entry.actor_id),
                entry.note,
            )
        )
    events = sorted(
        (event.type, sku(event.product), event.warehouse.code, event_data(event, prefix))
        for event in StockEvent.objects.filter(
            company=company, stock_level__isnull=False
        ).select_related("product", "warehouse")
    )
    types = set(
        ProductType.objects.filter(company=company).values_list("name", "low_stock_threshold")
    )
    return {
        "products": products,
        "types": types,
        "levels": levels,
        "ledger_sums": dict(sums),
        "ledger_rows": sorted(rows, key=repr),
        "events": events,
    }


def event_data(event: StockEvent, prefix: str) -> tuple:
    """An event's data without ids, its SKU without ``prefix``."""
    data = {key: value for key, value in event.data.items() if not key.endswith("_id")}
    data["sku"] = data["sku"].removeprefix(prefix)
    return tuple(sorted(data.items()))


@pytest.mark.parametrize("arrays_min_rows", [1, bulkinsert.ARRAYS_MIN_ROWS])
def test_a_products_import_writes_what_the_api_writes(monkeypatch, arrays_min_rows):
    monkeypatch.setattr(bulkinsert, "ARRAYS_MIN_ROWS", arrays_min_rows)
    imported, sent = prepared_shop("I-"), prepared_shop("A-")

    job = applied(imported.tenant.admin, imported.company.pk, "products", ROWS.format(p="I-"))
    assert job["status"] == "applied", job["errors"]
    assert job["counts"] == {"create": 4, "update": 2, "unchanged": 1, "error": 0}
    through_the_api(sent, "A-")

    expected = state(sent, "A-")
    assert state(imported, "I-") == expected
    # What is compared is what the rows ask for, not two empty states.
    assert expected["levels"][("NEW-1", "MAIN")] == (10, 5)
    assert expected["levels"][("NEW-1", "BACK")] == (3, 5)
    assert expected["levels"][("NEW-3", "BACK")] == (7, 3)
    assert expected["levels"][("NEW-4", "MAIN")] == (0, None)
    assert expected["levels"][("OLD-3", "MAIN")] == (2, 3)
    assert expected["products"]["OLD-1"][:5] == ("Old renamed", Decimal("6.00"), "", "Food", 2)
    assert ("NEW-1", "BACK", 3, 3, "initial", "", "admin", INITIAL_STOCK_NOTE) in (
        expected["ledger_rows"]
    )
    assert [event[:3] for event in expected["events"]] == [
        ("stock.replenished", "NEW-1", "MAIN"),
        ("stock.replenished", "NEW-3", "BACK"),
    ]
    verify_stock()
