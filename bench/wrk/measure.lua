-- Shared by every wrk run of `make bench`: optional request list from a file, per-thread
-- counters of 2xx answers, and a JSON summary line with the latency percentiles.
--   BENCH_PATHS_FILE: one request path per line, used round-robin (else the URL's path)
--   BENCH_BODIES_FILE: one request body per line (POST), used in order, one each
local threads = {}
local paths, bodies = nil, nil
local i = 0
ok = 0

local function lines(name)
  local file = os.getenv(name)
  if not file or file == "" then return nil end
  local t = {}
  for line in io.lines(file) do t[#t + 1] = line end
  return t
end

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = lines("BENCH_PATHS_FILE")
  bodies = lines("BENCH_BODIES_FILE")
  if bodies then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  i = i + 1
  local path = wrk.path
  if paths then path = paths[(i - 1) % #paths + 1] end
  if bodies then
    return wrk.format("POST", path, nil, bodies[(i - 1) % #bodies + 1])
  end
  return wrk.format(nil, path)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 end
end

function done(summary, latency, requests)
  local successes = 0
  for _, thread in ipairs(threads) do successes = successes + (thread:get("ok") or 0) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx_3xx": %d, "ok_2xx": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, successes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
