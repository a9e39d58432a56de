-- kinds.lua: the sealed and dutch deciders, as rules_kinds.decide_sealed/decide_dutch
-- (needs lib.lua; the plan format is described in english.lua).

-- One sealed bid per bidder, at least the starting price; a new one replaces the old.
-- plan.hidden: no event, no price or leader in the state (the close ranks the bids).
local function decide_sealed(s, bidder, amount, max, now)
  if max then return 'bad', 'proxy bidding (max_amount) is for english rounds, not ' .. s.kind end
  if not amount then return 'bad', 'a sealed bid needs an amount' end
  local code = window_check(s, now)
  if not code and amount < tonumber(s.starting_price) then code = 'bid_too_low' end
  if code then return code end
  return { bids = { { bidder, amount, false } }, hidden = true }
end

-- The first bid takes the lot at the clock price of this instant and closes the round;
-- amount, when given, is the most the bidder pays (refused while the price is above it).
local function decide_dutch(s, bidder, amount, max, now)
  if max then return 'bad', 'proxy bidding (max_amount) is for english rounds, not dutch' end
  local code = window_check(s, now)
  local price = dutch_price(s, now)
  if not code and amount and amount < price then code = 'bid_too_low' end
  if code then return code end
  return { bids = { { bidder, price, false } }, close_at = now }
end
