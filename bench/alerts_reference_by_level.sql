-- The low-stock report the other way round: first the stock levels below their threshold (a
-- few percent of all), then, for each, its recent sales through an index on
-- inventory_sale (product_id, warehouse_id, sold_at) INCLUDE (quantity). Same rules and rows as
-- alerts_reference.sql. Without that index (the schema has none today) the per-level lookups
-- have nothing to use: `run.py alerts --index-experiment` creates it for the measurement and
-- drops it afterwards.
-- Parameters: %(company_id)s, %(window_days)s.
WITH RECURSIVE
bundle_walk (bundle_id, component_id, units, depth) AS (
    SELECT bc.bundle_id, bc.component_id, bc.quantity::bigint, 1
    FROM catalog_bundlecomponent bc
    WHERE bc.company_id = %(company_id)s
    UNION ALL
    SELECT walk.bundle_id, bc.component_id, walk.units * bc.quantity, walk.depth + 1
    FROM bundle_walk walk
    JOIN catalog_bundlecomponent bc ON bc.bundle_id = walk.component_id
    WHERE walk.depth < 16
),
bundle_leaves AS (
    SELECT walk.bundle_id, walk.component_id, sum(walk.units) AS units
    FROM bundle_walk walk
    JOIN catalog_product leaf ON leaf.id = walk.component_id AND NOT leaf.is_bundle
    GROUP BY walk.bundle_id, walk.component_id
),
-- MATERIALIZED: otherwise the planner pushes the "has recent sales" test below the threshold
-- test and looks up the sales of every stock level.
low AS MATERIALIZED (
    SELECT sl.product_id, sl.warehouse_id, sl.quantity,
           coalesce(p.low_stock_threshold, pt.low_stock_threshold) AS threshold
    FROM inventory_stocklevel sl
    JOIN catalog_product p ON p.id = sl.product_id
    LEFT JOIN catalog_producttype pt ON pt.id = p.product_type_id
    JOIN catalog_warehouse w ON w.id = sl.warehouse_id
    WHERE sl.company_id = %(company_id)s AND p.is_active AND NOT p.is_bundle AND w.is_active
      AND sl.quantity < coalesce(p.low_stock_threshold, pt.low_stock_threshold)
),
demand AS (
    SELECT low.*,
        (SELECT coalesce(sum(s.quantity), 0)
         FROM inventory_sale s
         WHERE s.product_id = low.product_id AND s.warehouse_id = low.warehouse_id
           AND s.sold_at >= now() - make_interval(days => %(window_days)s))
      + (SELECT coalesce(sum(s.quantity * leaf.units), 0)
         FROM bundle_leaves leaf
         JOIN inventory_sale s ON s.product_id = leaf.bundle_id
          AND s.warehouse_id = low.warehouse_id
          AND s.sold_at >= now() - make_interval(days => %(window_days)s)
         WHERE leaf.component_id = low.product_id) AS units
    FROM low
)
SELECT p.id AS product_id, p.name AS product_name, p.sku,
       w.id AS warehouse_id, w.name AS warehouse_name,
       d.quantity AS current_stock, d.threshold,
       floor(d.quantity * %(window_days)s::numeric / d.units)::bigint AS days_until_stockout,
       supplier.id AS supplier_id, supplier.name AS supplier_name,
       supplier.contact_email AS supplier_contact_email
FROM demand d
JOIN catalog_product p ON p.id = d.product_id
JOIN catalog_warehouse w ON w.id = d.warehouse_id
LEFT JOIN LATERAL (
    SELECT su.id, su.name, su.contact_email
    FROM catalog_productsupplier ps
    JOIN catalog_supplier su ON su.id = ps.supplier_id
    WHERE ps.product_id = p.id
    ORDER BY ps.is_primary DESC, ps.lead_time_days, ps.unit_cost NULLS LAST, ps.id
    LIMIT 1
) supplier ON true
WHERE d.units > 0
ORDER BY days_until_stockout, d.quantity, p.id, w.id
