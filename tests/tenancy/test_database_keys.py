"""The database keeps tenants apart by itself, whatever SQL reaches it.

* The platform's SKU registry follows every product insert, SKU change and delete (also
  rows written without the services), on SQLite and PostgreSQL.
* On PostgreSQL, a reference from a row of one company to a row of another is refused by
  the composite foreign keys, and every unique rule on tenant rows includes the company.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from stockflow.catalog.models import Product, SkuRegistration
from tests.factories import (
    WAREHOUSE_DELETE_BUDGET,
    assert_error,
    make_product,
    make_warehouse,
    stocked_shop,
)

PRODUCTS = "/api/products"


def registry() -> dict[str, tuple[int, int]]:
    return {
        row.sku: (row.company_id, row.product_id) for row in SkuRegistration.objects.order_by("sku")
    }


def test_registry_follows_every_product_write(tenant_a, tenant_b):
    warehouse = make_warehouse(tenant_a.company, "MAIN")
    stocked = make_product(tenant_a.company, "REG-1", warehouse=warehouse, quantity=2)
    bare = Product.objects.create(company=tenant_b.company, name="Bare", sku="REG-2", price=1)
    assert registry() == {
        "REG-1": (tenant_a.company.pk, stocked.pk),
        "REG-2": (tenant_b.company.pk, bare.pk),
    }

    response = tenant_b.admin.patch(f"{PRODUCTS}/{bare.pk}", {"sku": "REG-3"}, format="json")
    assert response.status_code == 200, response.content
    Product.objects.filter(pk=bare.pk).update(name="Renamed")  # the SKU unchanged
    assert registry() == {
        "REG-1": (tenant_a.company.pk, stocked.pk),
        "REG-3": (tenant_b.company.pk, bare.pk),
    }

    deleted = tenant_b.admin.delete(f"{PRODUCTS}/{bare.pk}", max_queries=WAREHOUSE_DELETE_BUDGET)
    assert deleted.status_code == 204
    assert registry() == {"REG-1": (tenant_a.company.pk, stocked.pk)}


def test_a_sku_of_another_company_is_a_conflict_on_create_and_rename(tenant_a, tenant_b):
    make_product(tenant_a.company, "TAKEN-1")
    mine = make_product(tenant_b.company, "MINE-1")
    warehouse = make_warehouse(tenant_b.company, "MAIN")
    body = {
        "name": "Copy",
        "sku": "TAKEN-1",
        "price": "1.00",
        "warehouse_id": warehouse.pk,
        "initial_quantity": 0,
    }

    created = tenant_b.admin.post(PRODUCTS, body, format="json")
    renamed = tenant_b.admin.patch(f"{PRODUCTS}/{mine.pk}", {"sku": "TAKEN-1"}, format="json")

    for response in (created, renamed):
        assert_error(response, 409, "sku_conflict")
    assert registry()["TAKEN-1"][0] == tenant_a.company.pk
    assert registry()["MINE-1"] == (tenant_b.company.pk, mine.pk)
    assert Product.objects.filter(sku="TAKEN-1").count() == 1


def test_a_raw_insert_of_a_taken_sku_is_refused_by_the_registry(tenant_a, tenant_b):
    make_product(tenant_a.company, "RAW-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(company=tenant_b.company, name="Raw", sku="RAW-1", price=1)
    assert list(Product.objects.filter(sku="RAW-1").values_list("company_id", flat=True)) == [
        tenant_a.company.pk
    ]


# --- PostgreSQL: composite foreign keys and unique rules ----------------------------------


def refused_by_database(sql: str, params: list) -> None:
    """``sql`` fails at once (the keys are deferred to the commit otherwise)."""
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql, params)


@pytest.mark.postgres
def test_a_reference_to_another_company_is_refused_by_the_database(tenant_a, tenant_b):
    shop = stocked_shop(tenant_a, "A", kind_threshold=500, history=True)
    other = stocked_shop(tenant_b, "B", kind_threshold=500, history=True)
    cases = [
        # a stock level of A pointing at B's product, and a new one in B's warehouse
        ("UPDATE inventory_stocklevel SET product_id = %s WHERE id = %s", [other.mug, shop.level]),
        (
            "INSERT INTO inventory_stocklevel (company_id, product_id, warehouse_id, quantity,"
            " updated_at) VALUES (%s, %s, %s, 0, now())",
            [shop.company, shop.coffee, other.backup],
        ),
        # a purchase order line of A for B's product, and A's order from B's supplier
        (
            "UPDATE purchasing_purchaseorderline SET product_id = %s WHERE id = %s",
            [other.coffee, shop.order_line()],
        ),
        (
            "UPDATE purchasing_purchaseorder SET supplier_id = %s WHERE id = %s",
            [other.mug_supplier, shop.draft],
        ),
        (
            "UPDATE inventory_ledgerentry SET warehouse_id = %s WHERE id = %s",
            [other.main, shop.ledger_entry],
        ),
        ("UPDATE inventory_sale SET product_id = %s WHERE id = %s", [other.mug, shop.mug_sale]),
        (
            "UPDATE catalog_bundlecomponent SET component_id = %s WHERE id = %s",
            [other.mug, shop.line],
        ),
        (
            "UPDATE catalog_productsupplier SET supplier_id = %s WHERE id = %s",
            [other.mug_supplier, shop.link],
        ),
        ("UPDATE catalog_product SET product_type_id = %s WHERE id = %s", [other.kind, shop.mug]),
        (
            "UPDATE notifications_webhookdelivery SET endpoint_id = %s WHERE id = %s",
            [other.webhook, shop.delivery],
        ),
        (
            "UPDATE inventory_stockevent SET stock_level_id = %s WHERE id = %s",
            [other.level, shop.event],
        ),
    ]
    for sql, rows in cases:
        refused_by_database(sql, [getattr(row, "pk", row) for row in rows])

    # The same statements within one company are accepted: only the company is refused.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "UPDATE purchasing_purchaseorderline SET product_id = product_id WHERE id = %s",
            [shop.order_line().pk],
        )


# Unique rules on rows that carry a company but are read before any company is known, or
# are a person's own: not tenant data (docs/scaling.md, "Platform tables").
PLATFORM_UNIQUES = {
    ("accounts_invitation", "token_hash"),
    ("web_userpreference", "user_id"),
    ("catalog_skuregistration", "product_id"),
}


@pytest.mark.postgres
def test_every_unique_rule_of_a_tenant_table_includes_the_company(db):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname,
                   array(SELECT a.attname FROM pg_attribute a
                         WHERE a.attrelid = t.oid AND a.attnum = ANY(x.indkey))
            FROM pg_index x
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
            WHERE x.indisunique AND NOT x.indisprimary
              AND EXISTS (SELECT 1 FROM pg_attribute c
                          WHERE c.attrelid = t.oid AND c.attname = 'company_id')
            """
        )
        rows = cursor.fetchall()
    assert len(rows) > 10
    missing = [
        (table, index, columns)
        for table, index, columns in rows
        if "company_id" not in columns and (table, *columns) not in PLATFORM_UNIQUES
    ]
    assert missing == []
