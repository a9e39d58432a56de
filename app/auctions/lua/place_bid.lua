-- place_bid.lua: decide one bid atomically, exactly as rules.decide_bid does.
-- KEYS  1 state hash, 2 bidders hash (bidder_id -> paddle), 3 idem hash, 4 events stream
-- ARGV  1 bidder_id, 2 amount (integer minor units), 3 idempotency key ('' = none),
--       4 request fingerprint
-- Reply (all strings): {'ok'|'err', code ('accepted' or a reject code), seq, amount, paddle,
--       placed_at_ms (the decision time, also for rejections), ends_at_ms, extended '1'|'0',
--       event id of the bid ('' unless accepted)}
-- Time is this server's clock (TIME), never the caller's.
local state, bidders, idem, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local bidder, amount_s, key, fingerprint = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

if #amount_s > 15 or not string.match(amount_s, '^[1-9]%d*$') then
  return redis.error_reply('ERR amount must be a positive integer of minor units')
end
local amount = tonumber(amount_s)

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function istr(n) return string.format('%.0f', n) end

local FIELDS = { 'round', 'kind', 'closed', 'starts_at_ms', 'ends_at_ms', 'starting_price',
  'increment', 'window_ms', 'extension_ms', 'hard_close_ms', 'current_price', 'leader', 'seq' }
local values = redis.call('HMGET', state, unpack(FIELDS))
local s = {}
for i, name in ipairs(FIELDS) do s[name] = values[i] end
local paddle = redis.call('HGET', bidders, bidder)

local function reply(code, seq, ends_at, extended, id)
  local status = 'err'
  if code == 'accepted' then status = 'ok' end
  return { status, code, seq or '0', amount_s, paddle or '', istr(now), ends_at or '',
    extended, id }
end

local field = false
if key ~= '' then
  field = bidder .. ':' .. key
  local stored = redis.call('HGET', idem, field)
  if stored then
    local first = cjson.decode(stored)
    if first[1] == fingerprint then return first[2] end
    return reply('idempotency_key_reused', s.seq, s.ends_at_ms, '0', '')
  end
end

local function finish(r)
  if field then redis.call('HSET', idem, field, cjson.encode({ fingerprint, r })) end
  return r
end

if not paddle then return finish(reply('not_qualified', s.seq, s.ends_at_ms, '0', '')) end
if not s.round then return finish(reply('auction_not_open', s.seq, '', '0', '')) end

-- english: ascending bids, minimum increment, the leader may not raise himself, soft close.
local function decide_english()
  if s.closed == '1' then return 'auction_closed' end
  if now < tonumber(s.starts_at_ms) then return 'auction_not_open' end
  local ends = tonumber(s.ends_at_ms)
  if now >= ends then return 'auction_closed' end
  if s.leader == bidder then return 'already_leading' end
  local minimum = tonumber(s.starting_price)
  if s.current_price ~= '' then minimum = tonumber(s.current_price) + tonumber(s.increment) end
  if amount < minimum then return 'bid_too_low' end
  local new_ends = ends
  if now >= ends - tonumber(s.window_ms) then
    new_ends = math.max(ends, now + tonumber(s.extension_ms))
    if s.hard_close_ms ~= '' then new_ends = math.min(new_ends, tonumber(s.hard_close_ms)) end
    new_ends = math.max(new_ends, ends)
  end
  return 'accepted', new_ends
end

local DECIDERS = { english = decide_english }
local decide = DECIDERS[s.kind]
if not decide then
  return redis.error_reply('UNSUPPORTED_ROUND_KIND ' .. tostring(s.kind))
end
local code, new_ends = decide()
if code ~= 'accepted' then return finish(reply(code, s.seq, s.ends_at_ms, '0', '')) end

local seq = istr(redis.call('HINCRBY', state, 'seq', 1))
local ends_s = istr(new_ends)
local extended = '0'
if new_ends ~= tonumber(s.ends_at_ms) then extended = '1' end
redis.call('HINCRBY', state, 'bid_count', 1)
redis.call('HSET', state, 'current_price', amount_s, 'leader', bidder, 'leader_paddle', paddle,
  'ends_at_ms', ends_s)
local id = redis.call('XADD', events, '*', 'type', 'bid', 'seq', seq, 'amount', amount_s,
  'paddle', paddle, 'placed_at_ms', istr(now), 'ends_at_ms', ends_s, 'round', s.round)
if extended == '1' then
  redis.call('XADD', events, '*', 'type', 'extended', 'seq', seq, 'ends_at_ms', ends_s,
    'round', s.round)
end
return finish(reply('accepted', seq, ends_s, extended, id))
