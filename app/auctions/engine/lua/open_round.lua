-- open_round.lua: initialise one round of an auction, once (idempotent).
-- KEYS  1 state hash, 2 bids hash (standing bids of the round), 3 advanced set
--       (every key of the auction shares the {auction:<id>} hash tag)
-- ARGV  1 the round as JSON (engine.py's round_json builds it from the spec and, when the
--       round is rebuilt from the durable trail, its restored state); every value a string:
--       {round = index,
--        fields = the state hash's fields for the round (spec, final, current_price, leader,
--          leader_paddle, bid_count, ends_at_ms, proxy_max, closed = '0'),
--        seq = the restored sequence (absent: the auction's sequence goes on, from '0'),
--        bids = restored standing bids {{bidder, 'amount:seq'}, ...},
--        advanced = only these bidder ids may bid (absent: restricted only when the previous
--          round advanced its best bidders, i.e. its close filled the advanced set)}
-- Reply {status, round}: status 'opened' (initialised now), 'exists' (this round already),
--       'stale' (a later round exists), 'previous_round_open' (earlier round not closed yet).
local state, bids, advanced = KEYS[1], KEYS[2], KEYS[3]
local r = cjson.decode(ARGV[1])
local round = tonumber(r.round)

local cur = redis.call('HMGET', state, 'round', 'closed', 'advance_done')
local restricted = '0'
if cur[1] then
  local existing = tonumber(cur[1])
  if existing == round then return { 'exists', cur[1] } end
  if existing > round then return { 'stale', cur[1] } end
  if cur[2] ~= '1' then return { 'previous_round_open', cur[1] } end
  if existing == round - 1 and cur[3] == '1' then restricted = '1' end
end

if r.advanced then
  restricted = '1'
  for _, id in ipairs(r.advanced) do
    redis.call('SADD', advanced, r.round .. ':' .. id)
  end
end

redis.call('DEL', bids)
redis.call('HDEL', state, 'outcome', 'winner', 'winner_paddle', 'price', 'closed_at_ms',
  'advance_done', 'advanced_bidders', 'advanced_paddles', 'advanced_best')
local flat = { 'round', r.round, 'restricted', restricted }
for name, value in pairs(r.fields) do
  flat[#flat + 1] = name
  flat[#flat + 1] = value
end
redis.call('HSET', state, unpack(flat))
if r.seq then
  redis.call('HSET', state, 'seq', r.seq)
else
  redis.call('HSETNX', state, 'seq', '0')
end
for _, bid in ipairs(r.bids or {}) do
  redis.call('HSET', bids, bid[1], bid[2])
end
return { 'opened', r.round }
