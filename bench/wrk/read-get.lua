-- wrk script for bench/read.sh: authenticated GETs, cycling through the request paths given
-- after `--` (one request per path in turn). Args: API_KEY PATH [PATH...].
-- Prints the same RESULT line as ingest.lua and health.lua.
local paths = {}
local next_path = 0

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  for i = 2, #args do
    paths[#paths + 1] = args[i]
  end
  if #paths == 0 then
    error("read-get.lua: no request paths given after the API key")
  end
end

function request()
  next_path = next_path % #paths + 1
  return wrk.format("GET", paths[next_path])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
