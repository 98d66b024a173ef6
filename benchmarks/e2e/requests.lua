-- wrk script of benchmarks/e2e/run.sh (run wrk with -t1: each thread would read the file and send the same requests).
-- Sends the pre-signed requests of $E2E_REQUESTS (written by `Pipeline.Benchmarks e2e-bodies`: path, body, then
-- header name/value pairs, tab-separated), each once, so none is a duplicate. $E2E_WRAP=1 starts over when they run
-- out (for the floor, which keeps nothing); otherwise the connections then ask GET /health/live and the run is
-- marked exhausted. $E2E_RATE > 0 offers that many requests/s on a fixed schedule (see README: wrk waits for a
-- response before a connection sends again, so a send that finds every connection busy goes out late; those are
-- counted as "late" and make the figures closed-loop rather than open-loop).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } e2e_timespec;
int clock_gettime(int clock_id, e2e_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("e2e_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

local wrap = os.getenv("E2E_WRAP") == "1"
local requests, count, idle = {}, 0, nil
local interval = 0
local rate = tonumber(os.getenv("E2E_RATE") or "0") or 0
if rate > 0 then
  interval = 1000 / rate
end
local start = nil

-- In init, not at the top level: wrk.format adds the Host header only once wrk.init has set it.
function init(_)
  for line in io.lines(os.getenv("E2E_REQUESTS")) do
    local fields = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      fields[#fields + 1] = field
    end
    local headers = { ["Content-Type"] = "application/json" }
    for i = 3, #fields - 1, 2 do
      headers[fields[i]] = fields[i + 1]
    end
    count = count + 1
    requests[count] = wrk.format("POST", fields[1], headers, fields[2])
  end
  idle = wrk.format("GET", "/health/live")
end

-- Globals: done() reads them through thread:get.
next_index = 1
exhausted = 0
late = 0
scheduled = 0

function delay()
  if interval == 0 then
    return 0
  end
  local now = now_ms()
  if start == nil then
    start = now
  end
  local due = start + scheduled * interval
  scheduled = scheduled + 1
  local wait = due - now
  if wait < -1 then
    late = late + 1
  end
  if wait <= 0 then
    return 0
  end
  return math.floor(wait + 0.5)
end

function request()
  if next_index > count then
    if not wrap then
      exhausted = 1
      return idle
    end
    next_index = 1
  end
  local r = requests[next_index]
  next_index = next_index + 1
  return r
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, _)
  local lateCount, scheduledCount, exhaustedAny = 0, 0, 0
  for _, thread in ipairs(threads) do
    lateCount = lateCount + thread:get("late")
    scheduledCount = scheduledCount + thread:get("scheduled")
    exhaustedAny = math.max(exhaustedAny, thread:get("exhausted"))
  end
  local errors = summary.errors
  io.write(string.format(
    "E2E requests=%d duration_us=%d status_errors=%d socket_errors=%d p50_us=%d p99_us=%d p999_us=%d max_us=%d scheduled=%d late=%d exhausted=%d\n",
    summary.requests, summary.duration, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max, scheduledCount, lateCount, exhaustedAny))
end
