-- emit_event.lua: append one event to a session's stream once: its dedup name (e.g.
-- 'lot_closed:42') is recorded beside the stream in the same step, so the code that changes
-- a session's state may emit before it commits and again after a crash or from a second
-- worker: the stream holds the event exactly once.
-- KEYS  1 events stream, 2 emitted hash (dedup name -> entry id); one {session:<id>} hash tag
-- ARGV  1 dedup name, 2 event type, then field, value, ... (strings)
-- Reply {status 'added'|'duplicate', entry id}
local events, emitted, name = KEYS[1], KEYS[2], ARGV[1]
local earlier = redis.call('HGET', emitted, name)
if earlier then return { 'duplicate', earlier } end
local t = redis.call('TIME')
local at = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local fields = { 'type', ARGV[2], 'at_ms', at }
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', events, '*', unpack(fields))
redis.call('HSET', emitted, name, id)
return { 'added', id }
