-- open_round.lua: initialise one round of an auction, once (idempotent).
-- KEYS  1 state hash, 2 bids hash (standing bids of the round), 3 advanced set
--       (every key of the auction shares the {auction:<id>} hash tag)
-- ARGV  1 round index, 2 kind, 3 starts_at_ms, 4 ends_at_ms, 5 starting_price, 6 increment,
--       7 window_ms, 8 extension_ms, 9 hard_close_ms ('' = none), 10 reserve ('' = none),
--       11 final ('1' = last round of the auction, '0' = more rounds follow),
--       restore (all '' for a fresh round; used to rebuild a round from the durable trail):
--       12 current_price, 13 leader, 14 leader_paddle, 15 bid_count, 16 seq, 17 ends_at_ms,
--       18 step, 19 interval_ms, 20 floor (dutch; '' otherwise), 21 advance ('' = none),
--       22 restricted: '1' = only the bidders in 23 may bid, '' = restricted only when the
--          previous round advanced its best bidders (its close filled the advanced set),
--       23 advanced bidder ids, comma-separated,
--       24 restore proxy_max, 25 restore standing bids 'bidder:amount:seq,...'
-- Reply {status, round}: status 'opened' (initialised now), 'exists' (this round already),
--       'stale' (a later round exists), 'previous_round_open' (earlier round not closed yet).
local state, bids, advanced = KEYS[1], KEYS[2], KEYS[3]
local round = tonumber(ARGV[1])
local kind = ARGV[2]

local KINDS = { english = true, dutch = true, sealed_first_price = true,
  sealed_second_price = true }
if not KINDS[kind] then
  return redis.error_reply('UNSUPPORTED_ROUND_KIND ' .. kind)
end

local cur = redis.call('HMGET', state, 'round', 'closed', 'advance_done')
local restricted = '0'
if cur[1] then
  local existing = tonumber(cur[1])
  if existing == round then return { 'exists', cur[1] } end
  if existing > round then return { 'stale', cur[1] } end
  if cur[2] ~= '1' then return { 'previous_round_open', cur[1] } end
  if existing == round - 1 and cur[3] == '1' then restricted = '1' end
end

local function default(value, fallback)
  if value == nil or value == '' then return fallback end
  return value
end

if ARGV[22] == '1' then
  restricted = '1'
  for id in string.gmatch(ARGV[23], '[^,]+') do
    redis.call('SADD', advanced, ARGV[1] .. ':' .. id)
  end
end

redis.call('DEL', bids)
redis.call('HDEL', state, 'outcome', 'winner', 'winner_paddle', 'price', 'closed_at_ms',
  'advance_done', 'advanced_bidders', 'advanced_paddles', 'advanced_best')
redis.call('HSET', state,
  'round', ARGV[1], 'kind', kind, 'starts_at_ms', ARGV[3], 'spec_ends_at_ms', ARGV[4],
  'starting_price', ARGV[5], 'increment', ARGV[6], 'window_ms', ARGV[7],
  'extension_ms', ARGV[8], 'hard_close_ms', ARGV[9], 'reserve', ARGV[10], 'final', ARGV[11],
  'current_price', default(ARGV[12], ''), 'leader', default(ARGV[13], ''),
  'leader_paddle', default(ARGV[14], ''), 'bid_count', default(ARGV[15], '0'),
  'ends_at_ms', default(ARGV[17], ARGV[4]), 'closed', '0',
  'step', default(ARGV[18], ''), 'interval_ms', default(ARGV[19], ''),
  'floor', default(ARGV[20], ''), 'advance', default(ARGV[21], ''),
  'restricted', restricted, 'proxy_max', default(ARGV[24], ''))
if default(ARGV[16], '') ~= '' then
  redis.call('HSET', state, 'seq', ARGV[16])
else
  redis.call('HSETNX', state, 'seq', '0')
end
for entry in string.gmatch(default(ARGV[25], ''), '[^,]+') do
  local who, value = string.match(entry, '^([^:]+):(%d+:%d+)$')
  redis.call('HSET', bids, who, value)
end
return { 'opened', ARGV[1] }
