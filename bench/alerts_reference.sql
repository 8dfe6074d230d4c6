-- The database floor of the low-stock report: the spec's rules (SPEC.md 3.2) as one query over
-- the current schema and indexes, with no framework around it. bench/run.py times it beside
-- the report's own SQL; it is a yardstick, not the report.
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
recent_sales AS (
    SELECT s.product_id, s.warehouse_id, sum(s.quantity) AS units
    FROM inventory_sale s
    JOIN catalog_warehouse w ON w.id = s.warehouse_id
    WHERE w.company_id = %(company_id)s AND w.is_active
      AND s.sold_at >= now() - make_interval(days => %(window_days)s)
    GROUP BY s.product_id, s.warehouse_id
),
demand AS (
    SELECT coalesce(leaf.component_id, r.product_id) AS product_id, r.warehouse_id,
           sum(r.units * coalesce(leaf.units, 1)) AS units
    FROM recent_sales r
    LEFT JOIN bundle_leaves leaf ON leaf.bundle_id = r.product_id
    GROUP BY 1, 2
)
SELECT p.id AS product_id, p.name AS product_name, p.sku,
       w.id AS warehouse_id, w.name AS warehouse_name,
       sl.quantity AS current_stock,
       coalesce(p.low_stock_threshold, pt.low_stock_threshold) AS threshold,
       floor(sl.quantity * %(window_days)s::numeric / d.units)::bigint AS days_until_stockout,
       supplier.id AS supplier_id, supplier.name AS supplier_name,
       supplier.contact_email AS supplier_contact_email
FROM demand d
JOIN inventory_stocklevel sl ON sl.product_id = d.product_id AND sl.warehouse_id = d.warehouse_id
JOIN catalog_product p ON p.id = d.product_id
LEFT JOIN catalog_producttype pt ON pt.id = p.product_type_id
JOIN catalog_warehouse w ON w.id = d.warehouse_id
LEFT JOIN LATERAL (
    SELECT su.id, su.name, su.contact_email
    FROM catalog_productsupplier ps
    JOIN catalog_supplier su ON su.id = ps.supplier_id
    WHERE ps.product_id = p.id
    ORDER BY ps.is_primary DESC, ps.lead_time_days, ps.unit_cost NULLS LAST, ps.id
    LIMIT 1
) supplier ON true
WHERE p.company_id = %(company_id)s AND p.is_active AND NOT p.is_bundle
  AND sl.quantity < coalesce(p.low_stock_threshold, pt.low_stock_threshold)
ORDER BY days_until_stockout, sl.quantity, p.id, w.id
