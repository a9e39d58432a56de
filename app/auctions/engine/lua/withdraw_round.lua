-- withdraw_round.lua: the operator withdraws the lot: its current round closes at once as
-- 'withdrawn' (no sale), so bids are refused as auction_closed and watchers get the closing
-- event. A round already closed (sold or not) is left alone.
-- KEYS  1 state hash, 2 events stream
-- Reply {status, closed_at_ms}: 'withdrawn' (by this call), 'already_withdrawn', 'closed'
--       (the round closed before, or is past its close and not paused: its outcome stands
--       once the closer gets to it), 'no_round'.
local state, events = KEYS[1], KEYS[2]
local s = load_fields(state, { 'round', 'closed', 'outcome', 'closed_at_ms', 'ends_at_ms',
  'paused_at_ms' })
local now = now_ms()
if s.round == '' then return { 'no_round', '' } end
if s.closed == '1' and s.outcome == 'withdrawn' then return { 'already_withdrawn', s.closed_at_ms } end
if s.closed == '1' then return { 'closed', s.closed_at_ms } end
if s.paused_at_ms == '' and now >= tonumber(s.ends_at_ms) then return { 'closed', '' } end
local closed_at = istr(now)
redis.call('HSET', state, 'closed', '1', 'outcome', 'withdrawn', 'winner', '', 'winner_paddle', '',
  'price', '', 'closed_at_ms', closed_at)
redis.call('HDEL', state, 'paused_at_ms')
redis.call('XADD', events, '*', 'type', 'closed', 'outcome', 'withdrawn', 'paddle', '', 'price', '',
  'closed_at_ms', closed_at)
return { 'withdrawn', closed_at }
