-- wrk script for `techauction bench`: many authenticated bidders, one request per call.
--
-- Configuration (environment, read by every wrk thread):
--   BENCH_DATA    a Lua file written by the bench: tokens, lots, base price, clock epoch
--   BENCH_TARGET  noop | redis | redis_batched | bid | pg | volatile (which endpoint; all
--                 send the same headers and body)
--   BENCH_LOTS    hot | all                 (the one hot lot, or any of the 100 lots)
--   BENCH_RATE    requests/s for THIS thread; unset or 0 = closed loop (saturation)
--
-- Amounts: every request bids starting price + (microseconds since the bench epoch) cents,
-- read from the machine's real-time clock (LuaJIT FFI). All threads and all runs share
-- that clock, so amounts rise in send order everywhere; with a 0.01 increment a bid is
-- accepted unless one sent later overtook it on its way to the decision (bid_too_low) or
-- its bidder already leads (already_leading). The server decides; we only count.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME: shared by every thread and process
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local data = dofile(os.getenv("BENCH_DATA"))
local target = os.getenv("BENCH_TARGET") or "bid"
local lots = data.lots
if (os.getenv("BENCH_LOTS") or "hot") == "hot" then lots = { data.hot } end
local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0

local PATHS = {
  noop = function(_) return "/bench/noop" end,
  redis = function(_) return "/bench/redis-script" end,
  redis_batched = function(_) return "/bench/redis-script-batched" end,
  bid = function(id) return "/api/v1/auctions/" .. id .. "/bids" end,
  pg = function(id) return "/bench/auctions/" .. id .. "/pg-bids" end,
  volatile = function(id) return "/bench/auctions/" .. id .. "/volatile-bids" end,
}
local path_of = PATHS[target]
local headers = { ["Content-Type"] = "application/json" }

-- per-thread counters, summed in done()
sent, s201, s200, s409_low, s409_leading, s409_other, s_other = 0, 0, 0, 0, 0, 0, 0

function init(args)
  -- `index` was set by setup() in this thread's state
  math.randomseed(now_us() % 2147483647 + (tonumber(index) or 0) * 7919)
end

function request()
  local lot = lots[math.random(#lots)]
  local bidders = lot.bidders
  headers["Authorization"] = "Bearer " .. data.tokens[bidders[math.random(#bidders)]]
  local cents = data.base_cents + (now_us() - data.epoch_us)
  local body = string.format('{"amount":"%d.%02d"}', math.floor(cents / 100), cents % 100)
  sent = sent + 1
  return wrk.format("POST", path_of(lot.id), headers, body)
end

function response(status, _, body)
  if status == 201 then
    s201 = s201 + 1
  elseif status == 200 then
    s200 = s200 + 1
  elseif status == 409 then
    if string.find(body, "bid_too_low", 1, true) then
      s409_low = s409_low + 1
    elseif string.find(body, "already_leading", 1, true) then
      s409_leading = s409_leading + 1
    else
      s409_other = s409_other + 1
    end
  else
    s_other = s_other + 1
  end
end

if rate > 0 then
  -- Fixed offered rate: each thread hands out send slots on an absolute schedule, one every
  -- 1/rate s, to whichever of its connections asks next (wrk times a request from its send,
  -- after this delay). A schedule that fell behind sends at once rather than bursting later.
  local interval = 1000000 / rate
  local next_at = nil
  function delay()
    local now = now_us()
    if next_at == nil or next_at < now - 1000000 then next_at = now end
    local wait = next_at - now
    next_at = next_at + interval
    if wait <= 0 then return 0 end
    return math.floor(wait / 1000)
  end
end

local threads = {}

function setup(thread)
  thread:set("index", #threads + 1)
  table.insert(threads, thread)
end

function done(summary, latency, _)
  local names = { "sent", "s201", "s200", "s409_low", "s409_leading", "s409_other", "s_other" }
  local totals = {}
  for _, name in ipairs(names) do totals[name] = 0 end
  for _, thread in ipairs(threads) do
    for _, name in ipairs(names) do totals[name] = totals[name] + (thread:get(name) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_us":%d,"requests":%d,"sent":%d,"status_201":%d,"status_200":%d,' ..
    '"status_409_bid_too_low":%d,"status_409_already_leading":%d,"status_409_other":%d,' ..
    '"status_other":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,' ..
    '"errors_timeout":%d,"latency_p50_us":%d,"latency_p90_us":%d,"latency_p99_us":%d,' ..
    '"latency_max_us":%d,"latency_mean_us":%.1f}\n',
    summary.duration, summary.requests, totals.sent, totals.s201, totals.s200, totals.s409_low,
    totals.s409_leading, totals.s409_other, totals.s_other, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
