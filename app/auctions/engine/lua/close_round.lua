-- close_round.lua: close the current round once it is due (idempotent; racing closers are
-- safe), with the round kind's outcome. Engine runs it after lib.lua, kinds.lua and
-- kinds/*.lua, as one script.
-- KEYS  1 state hash, 2 events stream, 3 bids hash (standing bids), 4 bidders hash,
--       5 advanced set
-- Reply (all strings): {status, ends_at_ms, round, outcome 'sold'|'unsold'|'', winner,
--       winner_paddle, price, closed_at_ms, now_ms, advance_done '1'|'', advanced bidders
--       (comma-separated, best first), their paddles, best bid of the round}
--   status 'not_due' (ends_at_ms is the current deadline: reschedule), 'paused' (its session is
--   paused: the resume moves its close), 'closed' (closed by this
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
if is_paused(state) then return reply('paused') end
if now < tonumber(s.ends_at_ms) then return reply('not_due') end

-- a kind no longer registered (or a state written by hand) has no outcome
local kind = KINDS[s.kind]
if not kind then
  return redis.error_reply('UNSUPPORTED_ROUND_KIND ' .. s.kind)
end
local c = kind.outcome(s, bids, bidders)

if s.advance ~= '' and s.final ~= '1' then
  local leader = nil
  if not kind.sealed then leader = s.leader end
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
