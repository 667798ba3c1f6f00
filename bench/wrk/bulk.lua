-- wrk script: POST /audit_logs/events/bulk with one prebuilt NDJSON body (1,000 events, all on
-- 2001-01-01) on every request, its date moved one day later on every request (per thread), so
-- that each bulk's events follow the previous ones' in time, as an import or backfill sends
-- them; the same timestamps again would put every bulk in the middle of the time indexes.
-- Args after `--`: BODY_FILE API_KEY. No Idempotency-Key: every request stores its events again
-- (with new ids).
local body
local counter = 0
local thread_count = 0
local first_day

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  body = file:read("*a")
  file:close()
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  wrk.headers["Content-Type"] = "application/x-ndjson"
  -- A later run on the same server starts on later days (100 days per second of the clock,
  -- wrapping every 20,000 s, so dates stay below year 9999).
  first_day = (os.time() % 20000) * 100
end

function request()
  counter = counter + 1
  local day = os.date("!%Y-%m-%d", (first_day + counter * 4 + tid) * 86400)
  return wrk.format("POST", nil, nil, (body:gsub("2001%-01%-01", day)))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
