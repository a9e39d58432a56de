-- kinds/dutch.lua: the dutch kind, as app/auctions/domain/kinds/dutch.py; it closes with
-- english's outcome_leader (kinds/english.lua comes first in the registry).

-- floor(a / b) for non-negative integers, corrected for rounding of the double division.
local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 end
  if (q + 1) * b <= a then q = q + 1 end
  return q
end

-- The dutch clock price at now: start - step * whole intervals elapsed, not below floor.
local function dutch_price(s, now)
  local start, step, floor = tonumber(s.starting_price), tonumber(s.step), tonumber(s.floor)
  local drops = idiv(math.max(0, now - tonumber(s.starts_at_ms)), tonumber(s.interval_ms))
  -- step * drops may exceed 2^53 only when it is far above start: the floor wins then anyway
  return math.max(floor, start - step * drops)
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

kind('dutch', decide_dutch, outcome_leader, dutch_price)
