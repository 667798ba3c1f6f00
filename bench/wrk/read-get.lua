-- wrk script for bench/read.sh and bench/portal.sh: authenticated GETs, cycling through the
-- request paths given after `--` (one request per path in turn). Args: CREDENTIAL PATH [PATH...],
-- where CREDENTIAL is an API key, or `cookie:NAME=VALUE` for an Admin Portal session.
-- Prints the same RESULT line as ingest.lua and health.lua.
local paths = {}
local next_path = 0

function init(args)
  local cookie = args[1]:match("^cookie:(.+)$")
  if cookie then
    wrk.headers["Cookie"] = cookie
  else
    wrk.headers["Authorization"] = "Bearer " .. args[1]
  end
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
