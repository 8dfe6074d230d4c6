-- Shared by the wrk scripts: count responses by status (and error code), and print one JSON
-- line with throughput and latency percentiles when the run is over.
-- Run wrk from the repository root: the scripts find this file as bench/wrk/report.lua.
local report = {}
local threads = {}

function report.setup(thread)
  thread:set("thread_index", #threads + 1)
  table.insert(threads, thread)
end

function report.init()
  statuses = {}
  error_codes = {}
end

function report.count(status, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status >= 400 then
    local code = body and body:match('"code"%s*:%s*"([%w_]+)"') or "none"
    local code_key = key .. ":" .. code
    error_codes[code_key] = (error_codes[code_key] or 0) + 1
  end
end

local function json_object(map)
  local parts = {}
  for key, value in pairs(map) do
    table.insert(parts, string.format('"%s": %s', key, tostring(value)))
  end
  table.sort(parts)
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function merged(name)
  local total = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get(name) or {}
    for key, value in pairs(counts) do
      total[key] = (total[key] or 0) + value
    end
  end
  return total
end

function report.done(summary, latency)
  local seconds = summary.duration / 1e6
  local ms = function(us) return string.format("%.2f", us / 1000) end
  local errors = summary.errors
  io.write("WRK_JSON " .. json_object({
    requests = summary.requests,
    duration_s = string.format("%.3f", seconds),
    rps = string.format("%.1f", summary.requests / seconds),
    p50_ms = ms(latency:percentile(50)),
    p95_ms = ms(latency:percentile(95)),
    p99_ms = ms(latency:percentile(99)),
    mean_ms = ms(latency.mean),
    max_ms = ms(latency.max),
    statuses = json_object(merged("statuses")),
    error_codes = json_object((function()
      local quoted = {}
      for key, value in pairs(merged("error_codes")) do quoted[key] = value end
      return quoted
    end)()),
    socket_errors = json_object({
      connect = errors.connect, read = errors.read, write = errors.write,
      timeout = errors.timeout,
    }),
  }) .. "\n")
end

return report
