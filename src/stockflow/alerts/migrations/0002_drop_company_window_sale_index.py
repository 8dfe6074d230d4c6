"""The low-stock report no longer scans a company's sales by time: it reads the sales of
each candidate (product, warehouse) through ``sale_product_wh_sold`` (inventory 0003). The
company-wide window index only cost on every sale insert: dropped (recreated on reverse)."""

from django.db import migrations

INDEX_NAME = "alerts_sale_company_sold_at"

DROP_SALE_INDEX = f"DROP INDEX IF EXISTS {INDEX_NAME}"
CREATE_SALE_INDEX = f"""
CREATE INDEX IF NOT EXISTS {INDEX_NAME}
ON inventory_sale (company_id, sold_at, warehouse_id, product_id, quantity)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_low_stock_report_indexes"),
        ("inventory", "0003_stock_level_threshold_and_report_indexes"),
    ]

    operations = [
        migrations.RunSQL(sql=DROP_SALE_INDEX, reverse_sql=CREATE_SALE_INDEX),
    ]
