"""The low-stock report's sale index carries the company: ``sale_company_product_wh_sold``
(company, product, warehouse, sold_at, quantity) replaces ``sale_product_wh_sold``. Under
row-level security every sale the report sums must pass the policy's ``company_id``
condition; with the company in the index, that is checked on the index entry, and the read
stays index-only instead of fetching each sale from the table. Not atomic: on PostgreSQL
the new index is built ``CONCURRENTLY`` (sales go on), then the old one is dropped."""

from django.db import migrations, models

from stockflow.tenancy.dbschema import AddIndexConcurrently, RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inventory", "0009_keys_within_company"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="sale",
            index=models.Index(
                fields=["company", "product", "warehouse", "sold_at", "quantity"],
                name="sale_company_product_wh_sold",
            ),
        ),
        RemoveIndexConcurrently(model_name="sale", name="sale_product_wh_sold"),
    ]
