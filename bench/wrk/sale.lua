-- POST a sale of one unit, rotating over (product_id, warehouse_id) pairs read from a file.
-- wrk -s bench/wrk/sale.lua URL -- <targets file> <token>
-- The targets file holds one "product_id warehouse_id" pair a line (one line: a hot level).
package.path = "bench/wrk/?.lua;" .. package.path
local report = require("report")

function setup(thread) report.setup(thread) end

function init(args)
  report.init()
  targets = {}
  for line in io.lines(args[1]) do
    local product, warehouse = line:match("(%d+)%s+(%d+)")
    if product then table.insert(targets, { product, warehouse }) end
  end
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. args[2],
  }
  -- Each thread starts at its own place in the list and walks it in order.
  position = ((thread_index - 1) * 7919) % #targets
end

function request()
  position = position % #targets + 1
  local target = targets[position]
  local body = string.format('{"product_id": %s, "warehouse_id": %s, "quantity": 1}',
    target[1], target[2])
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body) report.count(status, body) end

function done(summary, latency, requests) report.done(summary, latency) end
