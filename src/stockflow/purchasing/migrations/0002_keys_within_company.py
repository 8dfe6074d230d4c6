"""Purchase orders' keys within a company: one line per product in an order of a company,
and every reference between tenant rows inside one company (``tenancy.dbschema``). Not
atomic: indexes are built ``CONCURRENTLY`` on PostgreSQL."""

from django.db import migrations, models

from stockflow.tenancy.dbschema import RekeyUnique, SameCompanyForeignKeys


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0003_sku_registry_and_company_keys"),
        ("purchasing", "0001_initial"),
    ]

    operations = [
        RekeyUnique(
            "purchasing_purchaseorderline",
            "po_line_one_per_product",
            ["order_id", "product_id"],
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="purchaseorderline", name="po_line_one_per_product"
                ),
                migrations.AddConstraint(
                    model_name="purchaseorderline",
                    constraint=models.UniqueConstraint(
                        fields=("company", "order", "product"), name="po_line_one_per_product"
                    ),
                ),
            ],
        ),
        SameCompanyForeignKeys(
            [
                ("purchasing_purchaseorder", "supplier_id", "catalog_supplier"),
                ("purchasing_purchaseorder", "warehouse_id", "catalog_warehouse"),
                ("purchasing_purchaseorderline", "order_id", "purchasing_purchaseorder"),
                ("purchasing_purchaseorderline", "product_id", "catalog_product"),
            ]
        ),
    ]
