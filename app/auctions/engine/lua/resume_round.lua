-- resume_round.lua: restart the clock of a round paused under this token: every time of the
-- round (start, due close, current close, hard close) moves by the pause's length on this
-- server's clock, so the remaining time is what it was at the pause (and a dutch clock price
-- too). Once per token: the paused mark goes in the same step.
-- KEYS  1 state hash, 2 events stream
-- ARGV  1 pause token
-- Reply {status, shift_ms, ends_at_ms}: 'resumed' (by this call), 'not_paused' (shift 0, the
--       current ends_at_ms), 'no_round'.
local state, events, token = KEYS[1], KEYS[2], ARGV[1]
local s = load_fields(state, { 'round', 'closed', 'starts_at_ms', 'ends_at_ms', 'spec_ends_at_ms',
  'hard_close_ms', 'paused_at_ms', 'pause_token' })
if s.round == '' then return { 'no_round', '0', '' } end
if s.paused_at_ms == '' or s.pause_token ~= token then return { 'not_paused', '0', s.ends_at_ms } end
redis.call('HDEL', state, 'paused_at_ms')
if s.closed == '1' then return { 'not_paused', '0', s.ends_at_ms } end  -- withdrawn while paused
local now = now_ms()
local shift = math.max(now - tonumber(s.paused_at_ms), 0)
local function moved(field) return istr(tonumber(s[field]) + shift) end
local ends = moved('ends_at_ms')
redis.call('HSET', state, 'starts_at_ms', moved('starts_at_ms'), 'ends_at_ms', ends,
  'spec_ends_at_ms', moved('spec_ends_at_ms'))
if s.hard_close_ms ~= '' then redis.call('HSET', state, 'hard_close_ms', moved('hard_close_ms')) end
redis.call('XADD', events, '*', 'type', 'resumed', 'round', s.round, 'resumed_at_ms', istr(now),
  'ends_at_ms', ends, 'paused_ms', istr(shift))
return { 'resumed', istr(shift), ends }
