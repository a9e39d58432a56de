-- close_round.lua: close the current round once it is due (idempotent; racing closers are
-- safe). Engine runs it after lib.lua, as one script.
-- KEYS  1 state hash, 2 events stream, 3 bids hash (standing bids), 4 bidders hash,
--       5 advanced set
-- Reply (all strings): {status, ends_at_ms, round, outcome 'sold'|'unsold'|'', winner,
--       winner_paddle, price, closed_at_ms, now_ms, advance_done '1'|'', advanced bidders
--       (comma-separated, best first), their paddles, best bid of the round}
--   status 'not_due' (ends_at_ms is the current deadline: reschedule), 'closed' (closed by this
--   call; events written), 'already_closed' (the stored outcome again), 'no_round'.
-- A non-final round with an advance count also advances its best N bidders: they join the
-- advanced set of the next round, which open_round then restricts to them.
local state, events, bids, bidders, advanced = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]

local now = now_ms()
local s = load_fields(state, { 'round', 'kind', 'closed', 'ends_at_ms', 'current_price',
  'leader', 'leader_paddle', 'reserve', 'final', 'outcome', 'winner', 'winner_paddle', 'price',
  'closed_at_ms', 'starting_price', 'advance', 'bid_count', 'advance_done', 'advanced_bidders',
  'advanced_paddles', 'advanced_best' })

local function reply(status)
  return { status, s.ends_at_ms, s.round, s.outcome, s.winner, s.winner_paddle, s.price,
    s.closed_at_ms, istr(now), s.advance_done, s.advanced_bidders, s.advanced_paddles,
    s.advanced_best }
end

if s.round == '' then return reply('no_round') end
if s.closed == '1' then return reply('already_closed') end
if now < tonumber(s.ends_at_ms) then return reply('not_due') end

local UNSOLD = { outcome = 'unsold', winner = '', winner_paddle = '', price = '' }

-- english, dutch: the leader wins at the current price if it meets the reserve.
local function outcome_leader()
  if s.current_price == '' or s.leader == '' then return UNSOLD end
  if s.reserve ~= '' and tonumber(s.current_price) < tonumber(s.reserve) then return UNSOLD end
  return { outcome = 'sold', winner = s.leader, winner_paddle = s.leader_paddle,
    price = s.current_price }
end

-- sealed: the best standing bid wins if it meets the reserve; first price pays it, second
-- price the runner-up's bid (the starting price when alone), never below the reserve.
local function outcome_sealed()
  local list = ranked_bids(bids, nil)
  local best = list[1]
  if not best then return UNSOLD end
  if s.reserve ~= '' and best.amount < tonumber(s.reserve) then return UNSOLD end
  local price = best.amount
  if s.kind == 'sealed_second_price' then
    price = tonumber(s.starting_price)
    if list[2] then price = list[2].amount end
    if s.reserve ~= '' then price = math.max(price, tonumber(s.reserve)) end
  end
  return { outcome = 'sold', winner = best.bidder,
    winner_paddle = redis.call('HGET', bidders, best.bidder) or '', price = istr(price) }
end

local OUTCOMES = { english = outcome_leader, dutch = outcome_leader,
  sealed_first_price = outcome_sealed, sealed_second_price = outcome_sealed }
local decide = OUTCOMES[s.kind]
if not decide then
  return redis.error_reply('UNSUPPORTED_ROUND_KIND ' .. s.kind)
end
local c = decide()

if s.advance ~= '' and s.final ~= '1' then
  local leader = nil
  if not SEALED[s.kind] then leader = s.leader end
  local list = ranked_bids(bids, leader)
  local who, pads = {}, {}
  local next_round = istr(tonumber(s.round) + 1)
  for i = 1, math.min(tonumber(s.advance), #list) do
    who[i] = list[i].bidder
    pads[i] = redis.call('HGET', bidders, who[i]) or ''
    redis.call('SADD', advanced, next_round .. ':' .. who[i])
  end
  local best = ''
  if list[1] then best = istr(list[1].amount) end
  c.adv = { bidders = table.concat(who, ','), paddles = table.concat(pads, ','), best = best }
  s.advance_done, s.advanced_bidders, s.advanced_paddles, s.advanced_best =
    '1', c.adv.bidders, c.adv.paddles, best
end

s.outcome, s.winner, s.winner_paddle, s.price = c.outcome, c.winner, c.winner_paddle, c.price
s.closed_at_ms = write_close(state, events, s, c, now)
return reply('closed')
