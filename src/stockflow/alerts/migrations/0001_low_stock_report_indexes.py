"""Indexes for the low-stock report on tables owned by other apps.

The report sums one company's sales in a time window per (product, warehouse). This index
lets both PostgreSQL and SQLite answer that from the index alone: company, then the time
range, then what is summed. Written as portable SQL because the tables belong to the
inventory app.
"""

from django.db import migrations

INDEX_NAME = "alerts_sale_company_sold_at"

CREATE_SALE_INDEX = f"""
CREATE INDEX IF NOT EXISTS {INDEX_NAME}
ON inventory_sale (company_id, sold_at, warehouse_id, product_id, quantity)
"""
DROP_SALE_INDEX = f"DROP INDEX IF EXISTS {INDEX_NAME}"


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("inventory", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(sql=CREATE_SALE_INDEX, reverse_sql=DROP_SALE_INDEX),
    ]
