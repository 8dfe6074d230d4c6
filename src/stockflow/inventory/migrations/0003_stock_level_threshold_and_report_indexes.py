"""The low-stock report starts from the levels below their threshold.

* ``StockLevel.low_stock_threshold``: the product's effective threshold (its own, else its
  type's), backfilled here in SQL and kept by the services from now on.
* ``stock_level_low``: a partial index of the levels with ``quantity < low_stock_threshold``.
* ``sale_product_wh_sold``: the sales of one (product, warehouse) in a time window, read from
  the index alone; it replaces ``sale_wh_sold_product``, which no query reads any more.
* Foreign keys of sales (company, product) and stock levels (company, product, warehouse)
  lose their single-column indexes: a composite index starting with the same column serves
  every lookup they served, and each index costs on every sale insert and on every stock
  update (which can no longer be HOT: quantity is in the predicate of ``stock_level_low``).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (model, field, table, column, target, related name, index Django made for the foreign key)
FOREIGN_KEY_INDEXES = [
    (
        "sale",
        "company",
        "inventory_sale",
        "company_id",
        "tenancy.company",
        "+",
        "inventory_sale_company_id_f77089f2",
    ),
    (
        "sale",
        "product",
        "inventory_sale",
        "product_id",
        "catalog.product",
        "sales",
        "inventory_sale_product_id_a46ec16b",
    ),
    (
        "stocklevel",
        "company",
        "inventory_stocklevel",
        "company_id",
        "tenancy.company",
        "+",
        "inventory_stocklevel_company_id_1879c808",
    ),
    (
        "stocklevel",
        "product",
        "inventory_stocklevel",
        "product_id",
        "catalog.product",
        "stock_levels",
        "inventory_stocklevel_product_id_0fcddfdf",
    ),
    (
        "stocklevel",
        "warehouse",
        "inventory_stocklevel",
        "warehouse_id",
        "catalog.warehouse",
        "stock_levels",
        "inventory_stocklevel_warehouse_id_9f55a8ac",
    ),
]


def _drop_foreign_key_index(model, field, table, column, target, related_name, index):
    """``db_index=False`` on a foreign key, done as a plain DROP INDEX: AlterField would also
    drop and re-add the constraint, which re-validates every row of a large table."""
    return migrations.SeparateDatabaseAndState(
        database_operations=[
            migrations.RunSQL(
                sql=f"DROP INDEX IF EXISTS {index}",
                reverse_sql=f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({column})",
            )
        ],
        state_operations=[
            migrations.AlterField(
                model_name=model,
                name=field,
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name=related_name,
                    to=target,
                ),
            )
        ],
    )


BACKFILL_THRESHOLDS = """
UPDATE inventory_stocklevel
SET low_stock_threshold = (
    SELECT COALESCE(p.low_stock_threshold, t.low_stock_threshold)
    FROM catalog_product p
    LEFT JOIN catalog_producttype t ON t.id = p.product_type_id
    WHERE p.id = inventory_stocklevel.product_id
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("inventory", "0002_movement_constraints_and_ledger_indexes"),
        ("tenancy", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="stocklevel",
            name="low_stock_threshold",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunSQL(sql=BACKFILL_THRESHOLDS, reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="stocklevel",
            index=models.Index(
                condition=models.Q(("quantity__lt", models.F("low_stock_threshold"))),
                fields=["company", "warehouse", "product"],
                name="stock_level_low",
            ),
        ),
        migrations.AddIndex(
            model_name="sale",
            index=models.Index(
                fields=["product", "warehouse", "sold_at", "quantity"],
                name="sale_product_wh_sold",
            ),
        ),
        migrations.RemoveIndex(
            model_name="sale",
            name="sale_wh_sold_product",
        ),
        *[
            _drop_foreign_key_index(model, field, table, column, target, related_name, index)
            for model, field, table, column, target, related_name, index in FOREIGN_KEY_INDEXES
        ],
    ]
