-- kinds.lua: KINDS, the one table place_bid.lua and close_round.lua dispatch through:
-- name -> {decide, outcome, sealed, soft}. Engine puts it after lib.lua and a line FLAGS it
-- writes from the Python registry (app/auctions/domain/registry.py: name -> {sealed, soft}),
-- so both engines read a kind's flags from one place; then every lua/kinds/<name>.lua of the
-- registry, in its order, each ending with kind('<name>', decide, outcome).
--
-- decide(s, bidder, amount, max, now): s is the state hash's fields, amount and max numbers
--   or nil. It returns a reject code; or 'bad' and a message (a caller's bug); or a plan:
--   {bids = {{bidder, amount, by_proxy}, ...}, keep = proxy maximum left to the winner (nil:
--   none), close_at = when the round closes at once (nil: it goes on)}.
-- outcome(s, bids, bidders): the close of the round as it stands, from its state, standing
--   bids hash and bidder -> paddle hash: {outcome 'sold'|'unsold', winner, winner_paddle,
--   price} (all strings; lib.lua's unsold() when unsold).
-- minimum(s, now) (optional): the lowest next bid, told with a bid_too_low refusal (kinds that
--   show it: english, dutch; a sealed round tells nothing about other bids).
local KINDS = {}

local function kind(name, decide, outcome, minimum)
  local flags = FLAGS[name]
  KINDS[name] = { decide = decide, outcome = outcome, minimum = minimum, sealed = flags.sealed,
    soft = flags.soft }
end
