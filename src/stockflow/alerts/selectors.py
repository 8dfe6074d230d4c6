"""The low-stock report: one SQL query, plain rows.

What the query decides (SPEC §3.2), candidates first:

* Candidates: the company's stock levels below their threshold, ``quantity <
  low_stock_threshold``. The threshold is the product's own, else its type's, kept on the
  stock level by the services (see ``inventory.models.StockLevel``); null, no threshold, no
  alert. These levels are the partial index ``stock_level_low``, a few percent of the
  table: the report starts there, and never reads the company's sales as a whole. Only
  active, non-bundle products in active warehouses.
* Demand, for each candidate only: units sold of the product in that warehouse in the
  window ``since < sold_at <= now`` (start exclusive, end inclusive; sales dated in the
  future are not counted), one range of the index ``sale_company_product_wh_sold``, read
  from the index alone (row-level security's company condition included). A sale of a
  bundle counts as a sale of each of its components times the component quantity, nested
  bundles multiplied out: the company's bundles are expanded once to every component they
  contain, at any depth, with the multiplied quantity (the recursive CTE of
  ``catalog.bundles.bundle_parts_cte``, the one walk of every bundle expansion); a
  candidate then adds, for each bundle containing it, that bundle's units sold in the
  warehouse times the quantity. A candidate
  without demand is no alert. A (product, warehouse) without a stock level is not checked:
  every sale takes its units from an existing stock level (``inventory.sales``), and a
  product with sales cannot be deleted, so a product that sold somewhere has a level there.
* ``days_until_stockout`` = floor(current_stock / (units_sold / days)), computed as
  ``(current_stock * days) / units_sold`` on non-negative integers, where integer division
  is the floor on both PostgreSQL and SQLite. No float, no clamping.
* Supplier: the primary one, else the shortest lead time, then the lowest unit cost (a
  missing cost last), then the lowest supplier id. Its ``lead_time_days`` is the one the
  reorder arithmetic uses (``catalog.lead_times``: the observed one from 3 received orders).
* What is already coming, for the page's rows only: ``on_order``, ``on_draft`` and
  ``next_expected_date`` (``inventory.incoming``, which names the purchase order tables
  registered by ``purchasing``: this module does not import the layer above it).
* Order: days_until_stockout, then the largest shortfall (threshold - current_stock), then
  product id and warehouse id, so pages are stable.

All SQL arithmetic stays in integers so both databases give the same answers; decimal
figures are derived from these integers in Python (``alerts.forecast``).

The page and the total come back from the same statement: the total is a one-row
aggregate left-joined to the page, so an offset past the end still reports the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from django.db import connection

from stockflow.api.limits import BIGINT_MAX  # "no limit" for LIMIT
from stockflow.catalog.bundles import bundle_parts_cte
from stockflow.catalog.lead_times import effective_lead_time_sql
from stockflow.catalog.models import (
    Product,
    ProductSupplier,
    Supplier,
    Warehouse,
)
from stockflow.inventory.incoming import incoming_cte
from stockflow.inventory.models import Sale, StockLevel


class SupplierRow(TypedDict):
    id: int
    name: str
    contact_email: str


class LowStockRow(TypedDict):
    """One alert, already in the field order of the response; the view adds the forecast."""

    product_id: int
    product_name: str
    sku: str
    warehouse_id: int
    warehouse_name: str
    current_stock: int
    threshold: int
    days_until_stockout: int
    supplier: SupplierRow | None
    units_sold: int
    lead_time_days: int | None
    on_order: int
    on_draft: int
    next_expected_date: str | None


@dataclass(frozen=True)
class LowStockPage:
    total: int
    rows: list[LowStockRow] = field(default_factory=list)


def _low_stock_sql(
    *, warehouse_filter: bool, product_type_filter: bool, product_count: int = 0
) -> str:
    tables = {
        "sale": Sale._meta.db_table,
        "product": Product._meta.db_table,
        "warehouse": Warehouse._meta.db_table,
        "stock_level": StockLevel._meta.db_table,
        "product_supplier": ProductSupplier._meta.db_table,
        "supplier": Supplier._meta.db_table,
    }
    warehouse = "AND sl.warehouse_id = %(warehouse_id)s" if warehouse_filter else ""
    product_type = "AND p.product_type_id = %(product_type_id)s" if product_type_filter else ""
    products = ", ".join(f"%(product_{index})s" for index in range(product_count))
    product = f"AND sl.product_id IN ({products})" if product_count else ""
    incoming = incoming_cte(
        name="incoming", products="SELECT product_id FROM page", company="%(company_id)s"
    )

    def units_sold(product_id: str, warehouse_id: str) -> str:
        # One range of sale_company_product_wh_sold, read from the index alone.
        return f"""(
            SELECT CAST(COALESCE(SUM(s.quantity), 0) AS BIGINT)
            FROM {tables["sale"]} s
            WHERE s.company_id = %(company_id)s
              AND s.warehouse_id = {warehouse_id} AND s.product_id = {product_id}
              AND s.sold_at > %(since)s AND s.sold_at <= %(now)s
        )"""

    return f"""
WITH RECURSIVE
-- Every product each bundle of the company contains, at any depth, with the units one bundle
-- consumes along that path (catalog.bundles).
{bundle_parts_cte(company="bc.company_id = %(company_id)s")},
candidates AS (
    -- The partial index stock_level_low: the levels below their threshold.
    SELECT
        sl.product_id,
        p.name AS product_name,
        p.sku AS sku,
        sl.warehouse_id,
        w.name AS warehouse_name,
        sl.quantity AS current_stock,
        sl.low_stock_threshold AS threshold
    FROM {tables["stock_level"]} sl
    JOIN {tables["product"]} p ON p.id = sl.product_id AND p.company_id = %(company_id)s
    JOIN {tables["warehouse"]} w ON w.id = sl.warehouse_id AND w.company_id = %(company_id)s
    WHERE sl.company_id = %(company_id)s
      AND sl.quantity < sl.low_stock_threshold
      AND p.is_active AND NOT p.is_bundle AND w.is_active
      {warehouse}
      {product_type}
      {product}
),
contributions AS (
    -- Units sold of the candidate itself, then of each bundle containing it (times the
    -- units of the candidate in one bundle).
    SELECT c.*, {units_sold("c.product_id", "c.warehouse_id")} AS units
    FROM candidates c
    UNION ALL
    SELECT c.*, bp.units * {units_sold("bp.bundle_id", "c.warehouse_id")} AS units
    FROM candidates c
    JOIN bundle_parts bp ON bp.component_id = c.product_id
),
demand AS (
    -- Read twice below (the total, the page): computed once per candidate.
    SELECT product_id, product_name, sku, warehouse_id, warehouse_name, current_stock,
           threshold, CAST(SUM(units) AS BIGINT) AS units_sold
    FROM contributions
    GROUP BY product_id, warehouse_id, product_name, sku, warehouse_name, current_stock,
             threshold
),
page AS (
    SELECT d.*,
           (d.current_stock * %(days)s) / d.units_sold AS days_until_stockout,
           d.threshold - d.current_stock AS shortfall
    FROM demand d
    WHERE d.units_sold > 0
    ORDER BY (d.current_stock * %(days)s) / d.units_sold, d.threshold - d.current_stock DESC,
             d.product_id, d.warehouse_id
    LIMIT %(limit)s OFFSET %(offset)s
),
page_supplier AS (
    -- Only the alerts of the page look up their supplier: one index probe each.
    SELECT page.*, (
        SELECT ps.id
        FROM {tables["product_supplier"]} ps
        WHERE ps.product_id = page.product_id AND ps.company_id = %(company_id)s
        ORDER BY
            CASE WHEN ps.is_primary THEN 0 ELSE 1 END,
            ps.lead_time_days,
            CASE WHEN ps.unit_cost IS NULL THEN 1 ELSE 0 END,
            ps.unit_cost,
            ps.supplier_id
        LIMIT 1
    ) AS supplier_link_id
    FROM page
),
-- What is already coming for the page's products (inventory.incoming), in one pass.
{incoming},
page_rows AS (
    SELECT
        pg.product_id, pg.product_name, pg.sku, pg.warehouse_id, pg.warehouse_name,
        pg.current_stock, pg.threshold, pg.units_sold, pg.days_until_stockout,
        su.id AS supplier_id, su.name AS supplier_name,
        su.contact_email AS supplier_contact_email,
        {effective_lead_time_sql("ps")} AS lead_time_days,
        pg.shortfall,
        COALESCE(inc.on_order, 0) AS on_order,
        COALESCE(inc.on_draft, 0) AS on_draft,
        inc.next_expected_date
    FROM page_supplier pg
    LEFT JOIN {tables["product_supplier"]} ps
      ON ps.id = pg.supplier_link_id AND ps.company_id = %(company_id)s
    LEFT JOIN {tables["supplier"]} su
      ON su.id = ps.supplier_id AND su.company_id = %(company_id)s
    LEFT JOIN incoming inc
      ON inc.product_id = pg.product_id AND inc.warehouse_id = pg.warehouse_id
)
SELECT
    totals.total,
    r.product_id, r.product_name, r.sku, r.warehouse_id, r.warehouse_name,
    r.current_stock, r.threshold, r.units_sold, r.days_until_stockout,
    r.supplier_id, r.supplier_name, r.supplier_contact_email, r.lead_time_days,
    r.on_order, r.on_draft, r.next_expected_date
FROM (SELECT COUNT(*) AS total FROM demand WHERE units_sold > 0) totals
LEFT JOIN page_rows r ON 1 = 1
ORDER BY r.days_until_stockout, r.shortfall DESC, r.product_id, r.warehouse_id
"""


def low_stock_query(
    *,
    company_id: int,
    now: datetime,
    days: int = 30,
    warehouse_id: int | None = None,
    product_type_id: int | None = None,
    product_ids: Sequence[int] = (),
    limit: int | None = None,
    offset: int = 0,
) -> tuple[str, dict]:
    """The report's one SQL statement and its parameters (what ``low_stock_alerts`` runs)."""
    since = now - timedelta(days=days)
    ops = connection.ops
    params = {
        "company_id": company_id,
        "since": ops.adapt_datetimefield_value(since),
        "now": ops.adapt_datetimefield_value(now),
        "days": days,
        "warehouse_id": warehouse_id,
        "product_type_id": product_type_id,
        "limit": BIGINT_MAX if limit is None else limit,
        "offset": offset,
    }
    params.update({f"product_{index}": value for index, value in enumerate(product_ids)})
    sql = _low_stock_sql(
        warehouse_filter=warehouse_id is not None,
        product_type_filter=product_type_id is not None,
        product_count=len(product_ids),
    )
    return sql, params


def low_stock_alerts(
    *,
    company_id: int,
    now: datetime,
    days: int = 30,
    warehouse_id: int | None = None,
    product_type_id: int | None = None,
    product_ids: Sequence[int] = (),
    limit: int | None = None,
    offset: int = 0,
) -> LowStockPage:
    """The company's low-stock alerts, most urgent first, and how many there are in all.

    One query whatever the number of products, warehouses, sales or alerts. ``limit`` and
    ``offset`` page the alerts; ``total`` always counts every alert."""
    sql, params = low_stock_query(
        company_id=company_id,
        now=now,
        days=days,
        warehouse_id=warehouse_id,
        product_type_id=product_type_id,
        product_ids=product_ids,
        limit=limit,
        offset=offset,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        records = cursor.fetchall()
    total = int(records[0][0]) if records else 0
    # Plain dicts built in one expression per row: this loop runs once per alert.
    rows: list[LowStockRow] = [
        {
            "product_id": product_id,
            "product_name": product_name,
            "sku": sku,
            "warehouse_id": warehouse_id,
            "warehouse_name": warehouse_name,
            "current_stock": int(current_stock),
            "threshold": int(threshold),
            "days_until_stockout": int(days_until_stockout),
            "supplier": None
            if supplier_id is None
            else {
                "id": supplier_id,
                "name": supplier_name,
                "contact_email": supplier_contact_email,
            },
            "units_sold": int(units_sold),
            "lead_time_days": lead_time_days,
            "on_order": int(on_order or 0),
            "on_draft": int(on_draft or 0),
            "next_expected_date": None if next_expected is None else str(next_expected),
        }
        for (
            _total,
            product_id,
            product_name,
            sku,
            warehouse_id,
            warehouse_name,
            current_stock,
            threshold,
            units_sold,
            days_until_stockout,
            supplier_id,
            supplier_name,
            supplier_contact_email,
            lead_time_days,
            on_order,
            on_draft,
            next_expected,
        ) in records
        if product_id is not None  # a lone total row: the page is empty
    ]
    return LowStockPage(total=total, rows=rows)
