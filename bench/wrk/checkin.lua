-- POST one check-in per request: a fresh client_id each time, members' tokens in rotation.
-- Args: <path of a file with one "token lon lat" line per member>
local members = {}
local counter = 0
local thread_id = 0
local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local token, lon, lat = line:match("^(%S+) (%S+) (%S+)$")
    members[#members + 1] = { token = token, lon = tonumber(lon), lat = tonumber(lat) }
  end
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
  local body = string.format(
    '{"client_id":"%s","captured_at":"%s","latitude":%.7f,"longitude":%.7f,' ..
    '"accuracy_m":%d,"provider":"gps","device_id":"bench-%d"}',
    uuid4(), os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - math.random(0, 600)),
    m.lat + (math.random() - 0.5) * 0.004, m.lon + (math.random() - 0.5) * 0.004,
    math.random(5, 60), counter % #members)
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. m.token,
    ["Content-Type"] = "application/json",
  }, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
