"""Stock tables' keys within a company: a stock level is unique per company, product and
warehouse, and every reference between tenant rows stays inside one company
(``tenancy.dbschema``). Not atomic: indexes are built ``CONCURRENTLY`` on PostgreSQL."""

from django.db import migrations, models

from stockflow.tenancy.dbschema import RekeyUnique, SameCompanyForeignKeys


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0003_sku_registry_and_company_keys"),
        ("inventory", "0008_import_finished_event"),
    ]

    operations = [
        RekeyUnique(
            "inventory_stocklevel",
            "stock_level_one_per_product_warehouse",
            ["product_id", "warehouse_id"],
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="stocklevel", name="stock_level_one_per_product_warehouse"
                ),
                migrations.AddConstraint(
                    model_name="stocklevel",
                    constraint=models.UniqueConstraint(
                        fields=("company", "product", "warehouse"),
                        name="stock_level_one_per_product_warehouse",
                    ),
                ),
            ],
        ),
        SameCompanyForeignKeys(
            [
                ("inventory_stocklevel", "product_id", "catalog_product"),
                ("inventory_stocklevel", "warehouse_id", "catalog_warehouse"),
                ("inventory_ledgerentry", "stock_level_id", "inventory_stocklevel"),
                ("inventory_ledgerentry", "product_id", "catalog_product"),
                ("inventory_ledgerentry", "warehouse_id", "catalog_warehouse"),
                ("inventory_sale", "product_id", "catalog_product"),
                ("inventory_sale", "warehouse_id", "catalog_warehouse"),
                ("inventory_stockmovement", "product_id", "catalog_product"),
                ("inventory_stockmovement", "warehouse_id", "catalog_warehouse"),
                ("inventory_stockmovement", "to_warehouse_id", "catalog_warehouse"),
                ("inventory_stockevent", "stock_level_id", "inventory_stocklevel"),
                ("inventory_stockevent", "product_id", "catalog_product"),
                ("inventory_stockevent", "warehouse_id", "catalog_warehouse"),
            ]
        ),
    ]
