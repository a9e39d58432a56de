-- place_bid.lua: decide one bid atomically, exactly as rules.decide_bid does, through the
-- round kind's decider (Engine runs it after lib.lua, kinds.lua and kinds/*.lua, as one script).
-- KEYS  1 state hash, 2 bidders hash (bidder_id -> paddle), 3 idem hash, 4 events stream,
--       5 bids hash (bidder_id -> 'amount:seq', the standing bids of the round),
--       6 advanced set ('<round>:<bidder_id>': who may bid in a restricted round),
--       7 private stream (sealed bids, for the service's trail reconciliation only: never
--         served to clients; the public events stream gets nothing for a sealed bid)
-- ARGV  1 bidder_id, 2 amount (integer minor units; '' = none: dutch, proxy),
--       3 idempotency key ('' = none), 4 request fingerprint, 5 max_amount ('' = no proxy),
--       6 channel (online|absentee|floor; '' = online), 7 clerk user id of a floor bid ('' = none)
-- Reply (all strings): {'ok'|'err', code ('accepted' or a reject code), seq, amount, paddle,
--       placed_at_ms (the decision time, also for rejections), ends_at_ms, extended '1'|'0',
--       event id of the bid, kind, outbid '1'|'0', closed '1'|'0' (a dutch bid closed the
--       round), placed (JSON list of [bidder, paddle, seq, amount, ends_at_ms, extended,
--       event_id, by_proxy, channel] for every bid placed, the caller's and proxies'), round,
--       proxy_max (the leader's live maximum after the bid, '' = none: for the service's
--       durable trail only, so a rebuilt round keeps bidding for him; never served; in a
--       bid_too_low rejection: the lowest next bid, where the kind shows one)}
--   seq/amount/event id are the caller's own bid. Sealed rounds: no public event (the event
--   id is the private stream's), and a rejection carries seq '0' (it would count hidden bids).
-- Time is this server's clock (TIME), never the caller's.
local state, bidders, idem, events, bids, advanced, private = KEYS[1], KEYS[2], KEYS[3],
  KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local bidder, amount_s, key, fingerprint, max_s = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local channel, clerk = ARGV[6] or '', ARGV[7] or ''
if channel == '' then channel = 'online' end

local function money(text)
  if text == nil or text == '' then return nil end
  if #text > 15 or not string.match(text, '^[1-9]%d*$') then return false end
  return tonumber(text)
end
local amount, max = money(amount_s), money(max_s)
if amount == false or max == false then
  return redis.error_reply('ERR amount and max_amount must be positive integers of minor units')
end

local now = now_ms()
local s = load_fields(state, { 'round', 'kind', 'closed', 'starts_at_ms', 'ends_at_ms',
  'starting_price', 'increment', 'window_ms', 'extension_ms', 'hard_close_ms', 'current_price',
  'leader', 'leader_paddle', 'seq', 'bid_count', 'proxy_max', 'step', 'interval_ms', 'floor',
  'restricted', 'final', 'reserve', 'proxy_channel' })
local paddle = redis.call('HGET', bidders, bidder)
local kind = KINDS[s.kind]
local hidden = kind ~= nil and kind.sealed

-- A rejection; bid_too_low also tells the lowest next bid of its instant where the kind shows
-- one (last field), so that a keyed retry is answered with the very same minimum.
local function rejected(code)
  local seq = s.seq
  if hidden or seq == '' then seq = '0' end
  local minimum = ''
  if code == 'bid_too_low' and kind ~= nil and kind.minimum then
    minimum = istr(kind.minimum(s, now))
  end
  return { 'err', code, seq, amount_s, paddle or '', istr(now), s.ends_at_ms, '0', '', s.kind,
    '0', '0', '[]', s.round, minimum }
end

local field = false
if key ~= '' then
  field = bidder .. ':' .. key
  local stored = redis.call('HGET', idem, field)
  if stored then
    local first = cjson.decode(stored)
    if first[1] == fingerprint then return first[2] end
    return rejected('idempotency_key_reused')
  end
end

local function finish(r)
  if field then redis.call('HSET', idem, field, cjson.encode({ fingerprint, r })) end
  return r
end

if s.round == '' then
  -- Redis holds no round: never loaded, or lost. Nothing decided here is final (the caller
  -- may rebuild the round from SQL and ask again), so it is not stored under the key.
  if not paddle then return rejected('not_qualified') end
  return rejected('auction_not_open')
end
-- paused: refused, and not kept under the key (the same retry goes through after the resume)
if is_paused(state) then return rejected('session_paused') end
if not paddle then return finish(rejected('not_qualified')) end
if s.restricted == '1' and redis.call('SISMEMBER', advanced, s.round .. ':' .. bidder) == 0 then
  return finish(rejected('not_qualified'))
end

-- a kind no longer registered (or a state written by hand) has no decider
if not kind then return redis.error_reply('UNSUPPORTED_ROUND_KIND ' .. s.kind) end
local plan, detail = kind.decide(s, bidder, amount, max, now)
if plan == 'bad' then return redis.error_reply('BAD_BID ' .. detail) end
if type(plan) == 'string' then return finish(rejected(plan)) end

-- Apply the plan: one seq per bid, soft close after each, the standing bids, the events.
local ends0 = tonumber(s.ends_at_ms)
local ends, seq = ends0, tonumber(s.seq)
local placed, own = {}, nil
for i, b in ipairs(plan.bids) do
  local who, value, by_proxy = b[1], b[2], b[3]
  seq = seq + 1
  local moved = ends
  if kind.soft then moved = soft_close(s, ends, now) end
  if plan.close_at then moved = plan.close_at end
  local ext = moved > ends
  ends = moved
  local who_paddle, who_channel, who_clerk = paddle, channel, clerk
  -- a proxy's automatic bid for the leader keeps the channel his maximum came by
  if who ~= bidder then who_paddle, who_channel, who_clerk = s.leader_paddle, s.proxy_channel, '' end
  if who_channel == '' then who_channel = 'online' end
  local trail = { 'channel', who_channel }
  if who_clerk ~= '' then trail[3], trail[4] = 'clerk', who_clerk end
  redis.call('HSET', bids, who, istr(value) .. ':' .. istr(seq))
  local id
  if hidden then
    id = redis.call('XADD', private, '*', 'type', 'sealed_bid', 'seq', istr(seq),
      'amount', istr(value), 'paddle', who_paddle, 'bidder', who, 'placed_at_ms', istr(now),
      'ends_at_ms', istr(ends), 'round', s.round, unpack(trail))
  else
    id = redis.call('XADD', events, '*', 'type', 'bid', 'seq', istr(seq), 'amount', istr(value),
      'paddle', who_paddle, 'placed_at_ms', istr(now), 'ends_at_ms', istr(ends), 'round', s.round,
      unpack(trail))
    if ext then
      redis.call('XADD', events, '*', 'type', 'extended', 'seq', istr(seq),
        'ends_at_ms', istr(ends), 'round', s.round)
    end
  end
  local flag_ext, flag_proxy = '0', '0'
  if ext then flag_ext = '1' end
  if by_proxy then flag_proxy = '1' end
  placed[i] = { who, who_paddle, istr(seq), istr(value), istr(ends), flag_ext, id, flag_proxy,
    who_channel }
  if who == bidder then own = placed[i] end
end

local last = placed[#placed]
s.bid_count = istr((tonumber(s.bid_count) or 0) + #plan.bids)
local keep = ''
if hidden then  -- one write of the state: each call into Redis costs the script µs
  redis.call('HSET', state, 'seq', istr(seq), 'ends_at_ms', istr(ends), 'bid_count', s.bid_count)
else
  if plan.keep and plan.keep > tonumber(last[4]) then keep = istr(plan.keep) end
  redis.call('HSET', state, 'seq', istr(seq), 'ends_at_ms', istr(ends), 'bid_count', s.bid_count,
    'current_price', last[4], 'leader', last[1], 'leader_paddle', last[2], 'proxy_max', keep,
    'proxy_channel', last[9])
end

local closed = '0'
if plan.close_at then  -- dutch: the lot is taken; close the round in this same step
  s.ends_at_ms, s.current_price, s.leader, s.leader_paddle = istr(ends), last[4], last[1], last[2]
  write_close(state, events, s, kind.outcome(s, bids, bidders), now)
  closed = '1'
end

local extended, outbid = '0', '0'
if ends > ends0 then extended = '1' end
if last[1] ~= bidder then outbid = '1' end
return finish({ 'ok', 'accepted', own[3], own[4], paddle, istr(now), istr(ends), extended,
  own[7], s.kind, outbid, closed, cjson.encode(placed), s.round, keep })
