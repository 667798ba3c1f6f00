-- wrk script: bench/wrk/ingest.lua at a steady pace, each connection waiting BENCH_PACE_MS
-- (environment) between requests, for a known ingest rate (connections × 1000 / pace).
dofile(os.getenv("BENCH_ROOT") .. "/bench/wrk/ingest.lua")
local pace = tonumber(os.getenv("BENCH_PACE_MS") or "10")

function delay()
  return pace
end
