-- POST /checkins/batch with 500 fresh check-ins per request (an offline phone catching up).
-- Args: <path of a file with one "token lon lat" line per member> <run nonce: 8 hex digits>
--       [items per batch]
--
-- client_ids cannot repeat: the run's nonce, the wrk thread's number and a per-thread item
-- counter, in a valid UUID v4 layout (see checkin.lua).
local members = {}
local counter = 0
local items_made = 0
-- Globals, so that done() can read them from each thread (thread:get).
sent = 0
s200 = 0
other = 0
local thread_id = 0
local next_thread = 0
local size = 500
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
  if args[3] then size = tonumber(args[3]) end
  math.randomseed(os.time() * 1000 + thread_id)
  counter = thread_id * 7919
end

local function client_id(n)
  return string.format("%s-%04x-4000-8000-%012x", nonce, thread_id, n)
end

function request()
  counter = counter + 1
  sent = sent + 1
  local m = members[(counter % #members) + 1]
  local now = os.time()
  local items = {}
  for i = 1, size do
    items_made = items_made + 1
    -- spread over the last ~2 days, one fix every 5 minutes
    items[i] = string.format(
      '{"client_id":"%s","captured_at":"%s","latitude":%.7f,"longitude":%.7f,"accuracy_m":%d}',
      client_id(items_made), os.date("!%Y-%m-%dT%H:%M:%SZ", now - (size - i) * 300 - math.random(0, 200)),
      m.lat + (math.random() - 0.5) * 0.004, m.lon + (math.random() - 0.5) * 0.004,
      math.random(5, 60))
  end
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. m.token,
    ["Content-Type"] = "application/json",
  }, '{"items":[' .. table.concat(items, ",") .. ']}')
end

function response(status, headers, body)
  if status == 200 then s200 = s200 + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local t = { sent = 0, s200 = 0, other = 0 }
  for _, thread in ipairs(threads) do
    t.sent = t.sent + thread:get("sent")
    t.s200 = t.s200 + thread:get("s200")
    t.other = t.other + thread:get("other")
  end
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d,"sent":%d,"s201":0,"s200":%d,"s409":0,' ..
    '"other":%d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max,
    t.sent, t.s200, t.other))
end
