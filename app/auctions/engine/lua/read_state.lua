-- read_state.lua: the round state, its standing bids and this server's clock, read atomically.
-- KEYS  1 state hash, 2 bids hash
-- Reply {now_ms, {field, value, ...}, {bidder, 'amount:seq', ...}} (empty lists when no round
-- was opened).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return { string.format('%.0f', now), redis.call('HGETALL', KEYS[1]),
  redis.call('HGETALL', KEYS[2]) }
