-- GET the URL given to wrk with a bearer token.
-- wrk -s bench/wrk/get.lua URL -- <token>
package.path = "bench/wrk/?.lua;" .. package.path
local report = require("report")

function setup(thread) report.setup(thread) end

function init(args)
  report.init()
  headers = { ["Authorization"] = "Bearer " .. args[1] }
end

function request() return wrk.format("GET", nil, headers) end

function response(status, headers, body) report.count(status, body) end

function done(summary, latency, requests) report.done(summary, latency) end
