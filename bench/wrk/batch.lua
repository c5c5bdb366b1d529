-- POST /checkins/batch with 500 fresh check-ins per request (an offline phone catching up).
-- Args: <path of a file with one "token lon lat" line per member> [items per batch]
local members = {}
local counter = 0
local thread_id = 0
local next_thread = 0
local size = 500

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local token, lon, lat = line:match("^(%S+) (%S+) (%S+)$")
    members[#members + 1] = { token = token, lon = tonumber(lon), lat = tonumber(lat) }
  end
  if args[2] then size = tonumber(args[2]) end
  math.randomseed(os.time() * 1000 + thread_id)
  counter = thread_id * 7919
end

local function uuid4()
  local t = {}
  for i = 1, 16 do t[i] = math.random(0, 255) end
  t[7] = (t[7] % 16) + 64
  t[9] = (t[9] % 64) + 128
  return string.format(
    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
    t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13], t[14], t[15], t[16])
end

function request()
  counter = counter + 1
  local m = members[(counter % #members) + 1]
  local now = os.time()
  local items = {}
  for i = 1, size do
    -- spread over the last ~2 days, one fix every 5 minutes
    items[i] = string.format(
      '{"client_id":"%s","captured_at":"%s","latitude":%.7f,"longitude":%.7f,"accuracy_m":%d}',
      uuid4(), os.date("!%Y-%m-%dT%H:%M:%SZ", now - (size - i) * 300 - math.random(0, 200)),
      m.lat + (math.random() - 0.5) * 0.004, m.lon + (math.random() - 0.5) * 0.004,
      math.random(5, 60))
  end
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. m.token,
    ["Content-Type"] = "application/json",
  }, '{"items":[' .. table.concat(items, ",") .. ']}')
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
