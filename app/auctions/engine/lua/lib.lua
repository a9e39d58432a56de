-- lib.lua: helpers shared by the scripts. Engine prepends it (then kinds/*.lua and kinds.lua)
-- to place_bid.lua and close_round.lua, so one script text holds all of it.
-- Every number here is an integer below 2^53 (money <= 1e14, epoch ms), exact in a double.

local function istr(n) return string.format('%.0f', n) end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A round stopped by its session's pause (pause_round.lua / resume_round.lua): no bid, no close.
local function is_paused(state)
  return redis.call('HEXISTS', state, 'paused_at_ms') == 1
end

-- The named fields of a hash as a table ('' for missing ones).
local function load_fields(key, names)
  local values = redis.call('HMGET', key, unpack(names))
  local s = {}
  for i, name in ipairs(names) do s[name] = values[i] or '' end
  return s
end

-- Closed, not open yet, or past its end: the checks every kind makes first (nil = open).
local function window_check(s, now)
  if s.closed == '1' then return 'auction_closed' end
  if now < tonumber(s.starts_at_ms) then return 'auction_not_open' end
  if now >= tonumber(s.ends_at_ms) then return 'auction_closed' end
  return nil
end

-- Anti-sniping: where ends_at moves after a bid accepted at now (kinds with soft = true).
local function soft_close(s, ends, now)
  if now < ends - tonumber(s.window_ms) then return ends end
  local moved = math.max(ends, now + tonumber(s.extension_ms))
  if s.hard_close_ms ~= '' then moved = math.min(moved, tonumber(s.hard_close_ms)) end
  return math.max(moved, ends)
end

-- A close without a sale.
local function unsold()
  return { outcome = 'unsold', winner = '', winner_paddle = '', price = '' }
end

-- Standing bids (bids hash: bidder -> 'amount:seq') best first: amount desc, then seq asc.
-- leader (english/dutch), when given, ranks first (he may tie the top amount after a proxy tie).
local function ranked_bids(bids_key, leader)
  local flat = redis.call('HGETALL', bids_key)
  local list = {}
  for i = 1, #flat, 2 do
    local a, q = string.match(flat[i + 1], '^(%d+):(%d+)$')
    list[#list + 1] = { bidder = flat[i], amount = tonumber(a), seq = tonumber(q) }
  end
  table.sort(list, function(x, y)
    if leader and leader ~= '' and (x.bidder == leader) ~= (y.bidder == leader) then
      return x.bidder == leader
    end
    if x.amount ~= y.amount then return x.amount > y.amount end
    return x.seq < y.seq
  end)
  return list
end

-- Record the close of the current round in the state hash and the event stream.
-- c: {outcome, winner, winner_paddle, price, adv (nil or {bidders, paddles, best})}
local function write_close(state, events, s, c, now)
  local closed_at = istr(now)
  redis.call('HSET', state, 'closed', '1', 'outcome', c.outcome, 'winner', c.winner,
    'winner_paddle', c.winner_paddle, 'price', c.price, 'closed_at_ms', closed_at,
    'ends_at_ms', s.ends_at_ms)
  local extra = {}
  if c.adv then
    redis.call('HSET', state, 'advance_done', '1', 'advanced_bidders', c.adv.bidders,
      'advanced_paddles', c.adv.paddles, 'advanced_best', c.adv.best)
    extra = { 'advanced', c.adv.paddles, 'best', c.adv.best }
  end
  redis.call('XADD', events, '*', 'type', 'round_closed', 'round', s.round, 'kind', s.kind,
    'outcome', c.outcome, 'paddle', c.winner_paddle, 'price', c.price,
    'ends_at_ms', s.ends_at_ms, 'closed_at_ms', closed_at, 'bid_count', s.bid_count,
    unpack(extra))
  if s.final == '1' then
    redis.call('XADD', events, '*', 'type', 'closed', 'outcome', c.outcome,
      'paddle', c.winner_paddle, 'price', c.price, 'closed_at_ms', closed_at)
  end
  return closed_at
end
