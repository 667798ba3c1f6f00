-- wrk script: single-event POSTs to the URL's path (/audit_logs/events), each body unique (a per-thread counter in
-- the metadata and actor). Args after `--`: ORGANIZATION_ID API_KEY [keys]. With `keys`, every
-- request carries a fresh Idempotency-Key as the Node SDK sends on every createEvent,
-- `workos-node-<random uuid4>` (Python and Go send a bare uuid4): random keys, which land all
-- over the key index, not in insertion order; without it, none.
local org, occurred_at, with_keys
local counter = 0
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

function init(args)
  org = args[1]
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  wrk.headers["Content-Type"] = "application/json"
  occurred_at = os.date("!%Y-%m-%dT%H:%M:%S.000Z")
  with_keys = args[3] == "keys"
  -- Each thread's generator seeded from the kernel, so no two threads (or runs) share keys.
  local urandom = assert(io.open("/dev/urandom", "rb"))
  local seed = 0
  for byte in urandom:read(6):gmatch(".") do seed = seed * 256 + byte:byte() end
  urandom:close()
  math.randomseed(seed)
end

-- A random version-4 UUID, as crypto.randomUUID() returns it.
local function uuid4()
  return string.format("%08x-%04x-4%03x-%x%03x-%04x%08x", math.random(0, 0xffffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), math.random(8, 11), math.random(0, 0xfff),
    math.random(0, 0xffff), math.random(0, 0xffffffff))
end

local template = '{"organization_id":"%s","event":{"action":"document.updated","occurred_at":"%s",'
  .. '"actor":{"id":"user_%d","type":"user","name":"User %d","metadata":{"role":"member"}},'
  .. '"targets":[{"id":"doc_%d","type":"document","name":"Target 0"},{"id":"team_%d","type":"team"}],'
  .. '"context":{"location":"10.0.%d.%d","user_agent":"Mozilla/5.0 (wrk)"},'
  .. '"metadata":{"request_id":"req_%d_%d","size":%d,"ok":true}}}'

function request()
  counter = counter + 1
  local body = string.format(template, org, occurred_at, counter % 1000, counter % 1000,
    counter % 5000, counter % 50, tid, counter % 256, tid, counter, counter % 10000)
  if not with_keys then
    return wrk.format("POST", nil, nil, body)
  end
  -- wrk.format takes the headers it is given instead of wrk.headers: copy them.
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Idempotency-Key"] = "workos-node-" .. uuid4()
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
