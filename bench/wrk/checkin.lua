-- POST one check-in per request: a fresh client_id each time, members' tokens in rotation.
-- Args: <path of a file with one "token lon lat" line per member> <run nonce: 8 hex digits>
--
-- client_ids cannot repeat: <nonce>-<thread>-4<counter high>-8<…>-<counter>, a valid UUID v4
-- layout made of the run's nonce (fresh per wrk run, from the caller), the wrk thread's number
-- and a per-thread counter. Random ids collided across threads and runs (duplicates answered
-- 200 and conflicts 409, inflating the rate).
local members = {}
local counter = 0
-- Globals, so that done() can read them from each thread (thread:get).
sent = 0
s201 = 0
s200 = 0
s409 = 0
other = 0
local thread_id = 0
local next_thread = 0
local nonce = nil
local threads = {}

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
  threads[#threads + 1] = thread
end

function init(args)
  for line in io.lines(args[1]) do
    local token, lon, lat = line:match("^(%S+) (%S+) (%S+)$")
    members[#members + 1] = { token = token, lon = tonumber(lon), lat = tonumber(lat) }
  end
  nonce = args[2]
  assert(nonce and nonce:match("^%x%x%x%x%x%x%x%x$"), "a run nonce of 8 hex digits is required")
  math.randomseed(os.time() * 1000 + thread_id)
  counter = thread_id * 7919  -- spreads the threads over the members
end

local function client_id(n)
  return string.format("%s-%04x-4000-8000-%012x", nonce, thread_id, n)
end

function request()
  counter = counter + 1
  sent = sent + 1
  local m = members[(counter % #members) + 1]
  local body = string.format(
    '{"client_id":"%s","captured_at":"%s","latitude":%.7f,"longitude":%.7f,' ..
    '"accuracy_m":%d,"provider":"gps","device_id":"bench-%d"}',
    client_id(sent), os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - math.random(0, 600)),
    m.lat + (math.random() - 0.5) * 0.004, m.lon + (math.random() - 0.5) * 0.004,
    math.random(5, 60), counter % #members)
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. m.token,
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, body)
  if status == 201 then s201 = s201 + 1
  elseif status == 200 then s200 = s200 + 1
  elseif status == 409 then s409 = s409 + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local t = { sent = 0, s201 = 0, s200 = 0, s409 = 0, other = 0 }
  for _, thread in ipairs(threads) do
    t.sent = t.sent + thread:get("sent")
    t.s201 = t.s201 + thread:get("s201")
    t.s200 = t.s200 + thread:get("s200")
    t.s409 = t.s409 + thread:get("s409")
    t.other = t.other + thread:get("other")
  end
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d,"sent":%d,"s201":%d,"s200":%d,"s409":%d,' ..
    '"other":%d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max,
    t.sent, t.s201, t.s200, t.s409, t.other))
end
