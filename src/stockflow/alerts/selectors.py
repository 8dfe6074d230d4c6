"""The low-stock report: one SQL query, plain rows.

What the query decides (SPEC §3.2):

* Demand: units sold of each product in each warehouse in the window
  ``since < sold_at <= now`` (start exclusive, end inclusive; sales dated in the future are
  not counted). A sale of a bundle counts as a sale of each of its components times the
  component quantity, nested bundles multiplied out: the same walk as
  ``catalog.selectors.bundle_leaf_components``, done for every sold bundle at once with a
  recursive CTE.
* Candidates: active, non-bundle products in active warehouses of the company with demand
  there, a threshold (the product's own, else its type's) and ``current_stock < threshold``.
  A (product, warehouse) with sales but no stock level row counts as 0 in stock: it sold
  there, so the shelf exists and is empty.
* ``days_until_stockout`` = floor(current_stock / (units_sold / days)), computed as
  ``(current_stock * days) / units_sold`` on non-negative integers, where integer division
  is the floor on both PostgreSQL and SQLite. No float, no clamping.
* Supplier: the primary one, else the shortest lead time, then the lowest unit cost (a
  missing cost last), then the lowest supplier id.
* Order: days_until_stockout, then the largest shortfall (threshold - current_stock), then
  product id and warehouse id, so pages are stable.

All SQL arithmetic stays in integers so both databases give the same answers; decimal
figures are derived from these integers in Python (``alerts.forecast``).

The page and the total come back from the same statement: the total is a one-row
aggregate left-joined to the page, so an offset past the end still reports the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from django.db import connection

from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.catalog.selectors import MAX_BUNDLE_DEPTH
from stockflow.inventory.models import Sale, StockLevel

# Upper bound of a PostgreSQL bigint (and an SQLite integer): "no limit" for LIMIT.
BIGINT_MAX = 2**63 - 1


class LowStockRow(TypedDict):
    product_id: int
    product_name: str
    sku: str
    warehouse_id: int
    warehouse_name: str
    current_stock: int
    threshold: int
    units_sold: int
    days_until_stockout: int
    supplier_id: int | None
    supplier_name: str | None
    supplier_contact_email: str | None
    lead_time_days: int | None


@dataclass(frozen=True)
class LowStockPage:
    total: int
    rows: list[LowStockRow] = field(default_factory=list)


_COLUMNS = (
    "product_id",
    "product_name",
    "sku",
    "warehouse_id",
    "warehouse_name",
    "current_stock",
    "threshold",
    "units_sold",
    "days_until_stockout",
    "supplier_id",
    "supplier_name",
    "supplier_contact_email",
    "lead_time_days",
)


def _low_stock_sql(*, warehouse_filter: bool, product_type_filter: bool) -> str:
    tables = {
        "sale": Sale._meta.db_table,
        "bundle_component": BundleComponent._meta.db_table,
        "product": Product._meta.db_table,
        "product_type": ProductType._meta.db_table,
        "warehouse": Warehouse._meta.db_table,
        "stock_level": StockLevel._meta.db_table,
        "product_supplier": ProductSupplier._meta.db_table,
        "supplier": Supplier._meta.db_table,
    }
    sale_warehouse = "AND s.warehouse_id = %(warehouse_id)s" if warehouse_filter else ""
    product_type = "AND p.product_type_id = %(product_type_id)s" if product_type_filter else ""
    return f"""
WITH RECURSIVE
window_sales AS (
    SELECT s.product_id, s.warehouse_id, CAST(SUM(s.quantity) AS BIGINT) AS units
    FROM {tables["sale"]} s
    WHERE s.company_id = %(company_id)s
      AND s.sold_at > %(since)s AND s.sold_at <= %(now)s
      {sale_warehouse}
    GROUP BY s.product_id, s.warehouse_id
),
demand(product_id, warehouse_id, units, depth) AS (
    SELECT product_id, warehouse_id, units, 0 FROM window_sales
    UNION ALL
    SELECT bc.component_id, d.warehouse_id, d.units * bc.quantity, d.depth + 1
    FROM demand d
    JOIN {tables["bundle_component"]} bc
      ON bc.bundle_id = d.product_id AND bc.company_id = %(company_id)s
    WHERE d.depth < %(max_depth)s
),
demand_total AS (
    SELECT product_id, warehouse_id, CAST(SUM(units) AS BIGINT) AS units_sold
    FROM demand
    GROUP BY product_id, warehouse_id
),
candidates AS (
    SELECT
        p.id AS product_id,
        p.name AS product_name,
        p.sku AS sku,
        w.id AS warehouse_id,
        w.name AS warehouse_name,
        COALESCE(sl.quantity, 0) AS current_stock,
        COALESCE(p.low_stock_threshold, pt.low_stock_threshold) AS threshold,
        dt.units_sold AS units_sold,
        (COALESCE(sl.quantity, 0) * %(days)s) / dt.units_sold AS days_until_stockout
    FROM demand_total dt
    JOIN {tables["product"]} p ON p.id = dt.product_id AND p.company_id = %(company_id)s
    JOIN {tables["warehouse"]} w ON w.id = dt.warehouse_id AND w.company_id = %(company_id)s
    LEFT JOIN {tables["product_type"]} pt
      ON pt.id = p.product_type_id AND pt.company_id = %(company_id)s
    LEFT JOIN {tables["stock_level"]} sl
      ON sl.product_id = dt.product_id AND sl.warehouse_id = dt.warehouse_id
     AND sl.company_id = %(company_id)s
    WHERE p.is_active AND NOT p.is_bundle AND w.is_active
      AND COALESCE(p.low_stock_threshold, pt.low_stock_threshold) IS NOT NULL
      AND COALESCE(sl.quantity, 0) < COALESCE(p.low_stock_threshold, pt.low_stock_threshold)
      {product_type}
),
page AS (
    SELECT c.*, c.threshold - c.current_stock AS shortfall
    FROM candidates c
    ORDER BY c.days_until_stockout, c.threshold - c.current_stock DESC,
             c.product_id, c.warehouse_id
    LIMIT %(limit)s OFFSET %(offset)s
),
page_supplier AS (
    -- Only the alerts of the page look up their supplier: one index probe each.
    SELECT page.*, (
        SELECT ps.supplier_id
        FROM {tables["product_supplier"]} ps
        WHERE ps.product_id = page.product_id AND ps.company_id = %(company_id)s
        ORDER BY
            CASE WHEN ps.is_primary THEN 0 ELSE 1 END,
            ps.lead_time_days,
            CASE WHEN ps.unit_cost IS NULL THEN 1 ELSE 0 END,
            ps.unit_cost,
            ps.supplier_id
        LIMIT 1
    ) AS supplier_id
    FROM page
),
page_rows AS (
    SELECT
        pg.product_id, pg.product_name, pg.sku, pg.warehouse_id, pg.warehouse_name,
        pg.current_stock, pg.threshold, pg.units_sold, pg.days_until_stockout,
        su.id AS supplier_id, su.name AS supplier_name,
        su.contact_email AS supplier_contact_email, ps.lead_time_days,
        pg.shortfall
    FROM page_supplier pg
    LEFT JOIN {tables["product_supplier"]} ps
      ON ps.product_id = pg.product_id AND ps.supplier_id = pg.supplier_id
     AND ps.company_id = %(company_id)s
    LEFT JOIN {tables["supplier"]} su
      ON su.id = ps.supplier_id AND su.company_id = %(company_id)s
)
SELECT
    totals.total,
    r.product_id, r.product_name, r.sku, r.warehouse_id, r.warehouse_name,
    r.current_stock, r.threshold, r.units_sold, r.days_until_stockout,
    r.supplier_id, r.supplier_name, r.supplier_contact_email, r.lead_time_days
FROM (SELECT COUNT(*) AS total FROM candidates) totals
LEFT JOIN page_rows r ON 1 = 1
ORDER BY r.days_until_stockout, r.shortfall DESC, r.product_id, r.warehouse_id
"""


def low_stock_alerts(
    *,
    company_id: int,
    now: datetime,
    days: int = 30,
    warehouse_id: int | None = None,
    product_type_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> LowStockPage:
    """The company's low-stock alerts, most urgent first, and how many there are in all.

    One query whatever the number of products, warehouses, sales or alerts. ``limit`` and
    ``offset`` page the alerts; ``total`` always counts every alert."""
    since = now - timedelta(days=days)
    ops = connection.ops
    params = {
        "company_id": company_id,
        "since": ops.adapt_datetimefield_value(since),
        "now": ops.adapt_datetimefield_value(now),
        "days": days,
        "max_depth": MAX_BUNDLE_DEPTH,
        "warehouse_id": warehouse_id,
        "product_type_id": product_type_id,
        "limit": BIGINT_MAX if limit is None else limit,
        "offset": offset,
    }
    sql = _low_stock_sql(
        warehouse_filter=warehouse_id is not None,
        product_type_filter=product_type_id is not None,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        records = cursor.fetchall()
    total = int(records[0][0]) if records else 0
    rows: list[LowStockRow] = []
    for record in records:
        if record[1] is None:  # the total alone: the page is empty
            continue
        row = dict(zip(_COLUMNS, record[1:], strict=True))
        for name in (
            "current_stock",
            "threshold",
            "units_sold",
            "days_until_stockout",
        ):
            row[name] = int(row[name])
        rows.append(row)  # type: ignore[arg-type]
    return LowStockPage(total=total, rows=rows)
