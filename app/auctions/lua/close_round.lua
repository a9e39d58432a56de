-- close_round.lua: close the current round once it is due (idempotent; racing closers are safe).
-- KEYS  1 state hash, 2 events stream
-- Reply (all strings): {status, ends_at_ms, round, outcome 'sold'|'unsold'|'', winner,
--       winner_paddle, price, closed_at_ms, now_ms}
--   status 'not_due' (ends_at_ms is the current deadline: reschedule), 'closed' (closed by this
--   call; events written), 'already_closed' (the stored outcome again), 'no_round'.
local state, events = KEYS[1], KEYS[2]

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function istr(n) return string.format('%.0f', n) end

local FIELDS = { 'round', 'kind', 'closed', 'ends_at_ms', 'current_price', 'leader',
  'leader_paddle', 'reserve', 'final', 'outcome', 'winner', 'winner_paddle', 'price',
  'closed_at_ms' }
local values = redis.call('HMGET', state, unpack(FIELDS))
local s = {}
for i, name in ipairs(FIELDS) do s[name] = values[i] or '' end

local function reply(status)
  return { status, s.ends_at_ms, s.round, s.outcome, s.winner, s.winner_paddle, s.price,
    s.closed_at_ms, istr(now) }
end

if s.round == '' then return reply('no_round') end
if s.closed == '1' then return reply('already_closed') end
if now < tonumber(s.ends_at_ms) then return reply('not_due') end

-- english: the leader wins at the current price if it meets the reserve (none = any bid).
local function outcome_english()
  if s.current_price == '' or s.leader == '' then return false end
  if s.reserve ~= '' and tonumber(s.current_price) < tonumber(s.reserve) then return false end
  return true
end

local OUTCOMES = { english = outcome_english }
local decide = OUTCOMES[s.kind]
if not decide then
  return redis.error_reply('UNSUPPORTED_ROUND_KIND ' .. s.kind)
end

if decide() then
  s.outcome, s.winner, s.winner_paddle, s.price = 'sold', s.leader, s.leader_paddle, s.current_price
else
  s.outcome, s.winner, s.winner_paddle, s.price = 'unsold', '', '', ''
end
s.closed_at_ms = istr(now)
redis.call('HSET', state, 'closed', '1', 'outcome', s.outcome, 'winner', s.winner,
  'winner_paddle', s.winner_paddle, 'price', s.price, 'closed_at_ms', s.closed_at_ms)
redis.call('XADD', events, '*', 'type', 'round_closed', 'round', s.round, 'outcome', s.outcome,
  'paddle', s.winner_paddle, 'price', s.price, 'ends_at_ms', s.ends_at_ms,
  'closed_at_ms', s.closed_at_ms)
if s.final == '1' then
  redis.call('XADD', events, '*', 'type', 'closed', 'outcome', s.outcome,
    'paddle', s.winner_paddle, 'price', s.price, 'closed_at_ms', s.closed_at_ms)
end
return reply('closed')
