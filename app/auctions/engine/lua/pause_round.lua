-- pause_round.lua: stop the clock of an auction's current round (a session pause), once per
-- pause token: a retry or a second worker finds the token and changes nothing. While paused,
-- place_bid.lua refuses bids (session_paused) and close_round.lua does not close it.
-- KEYS  1 state hash, 2 events stream (the auction's public stream)
-- ARGV  1 pause token (the session's pause, its Redis time in ms)
-- Reply {status, paused_at_ms}: 'paused' (by this call), 'already' (this token was applied,
--       the round may have been resumed since), 'closed', 'no_round'.
local state, events, token = KEYS[1], KEYS[2], ARGV[1]
local s = load_fields(state, { 'round', 'closed', 'ends_at_ms', 'paused_at_ms', 'pause_token' })
if s.round == '' then return { 'no_round', '' } end
if s.pause_token == token or s.paused_at_ms ~= '' then return { 'already', s.paused_at_ms } end
if s.closed == '1' then return { 'closed', '' } end
local now = now_ms()
redis.call('HSET', state, 'paused_at_ms', istr(now), 'pause_token', token)
redis.call('XADD', events, '*', 'type', 'paused', 'round', s.round, 'paused_at_ms', istr(now),
  'ends_at_ms', s.ends_at_ms, 'remaining_ms', istr(math.max(tonumber(s.ends_at_ms) - now, 0)))
return { 'paused', istr(now) }
