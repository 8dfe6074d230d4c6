-- POST /api/products with a unique SKU on every request, rotating over warehouses.
-- wrk -s bench/wrk/products.lua URL -- <token> <run nonce> <warehouse ids, comma separated>
package.path = "bench/wrk/?.lua;" .. package.path
local report = require("report")

function setup(thread) report.setup(thread) end

function init(args)
  report.init()
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. args[1],
  }
  nonce = args[2]
  warehouses = {}
  for id in args[3]:gmatch("%d+") do table.insert(warehouses, id) end
  counter = 0
end

function request()
  counter = counter + 1
  local sku = string.format("BP-%s-%d-%d", nonce, thread_index, counter)
  local warehouse = warehouses[(counter + thread_index) % #warehouses + 1]
  local body = string.format(
    '{"name": "Bench product %s", "sku": "%s", "price": "12.50", ' ..
    '"warehouse_id": %s, "initial_quantity": 25}', sku, sku, warehouse)
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body) report.count(status, body) end

function done(summary, latency, requests) report.done(summary, latency) end
