-- kinds/english.lua: the english kind, as app/auctions/domain/kinds/english.py (the decider's
-- plan and the outcome are described in kinds.lua).
--
-- Proxy bidding, eBay-style: only the leader can hold a live proxy (proxy_max, kept only
-- while above the current price), so a request meets at most one and resolves in two bids:
-- the loser's at his maximum, then the winner's at min(his maximum, loser's + increment);
-- a plain bid is placed at its own amount. Equal maxima go to the earlier proxy (the leader).
-- The lowest amount the next english bid may have: the starting price, then current + increment.
local function english_minimum(s)
  if s.current_price == '' then return tonumber(s.starting_price) end
  return tonumber(s.current_price) + tonumber(s.increment)
end

local function decide_english(s, bidder, amount, max, now)
  if (amount == nil) == (max == nil) then
    return 'bad', 'an english bid has either an amount or a max_amount'
  end
  local code = window_check(s, now)
  if not code and s.leader == bidder then code = 'already_leading' end
  local offer = max or amount
  local inc = tonumber(s.increment)
  local minimum = english_minimum(s)
  if not code and offer < minimum then code = 'bid_too_low' end
  if code then return code end

  local proxy = max ~= nil
  local top = nil
  if s.proxy_max ~= '' then top = tonumber(s.proxy_max) end
  if s.leader == '' or top == nil then
    local value = offer
    if proxy then value = minimum end
    return { bids = { { bidder, value, proxy } }, keep = max }
  end
  if offer > top then  -- the challenger beats the leader's proxy
    local value = offer
    if proxy then value = math.min(offer, top + inc) end
    return { bids = { { s.leader, top, true }, { bidder, value, proxy } }, keep = max }
  end
  -- the leader's proxy holds (ties go to it: it is the earlier)
  return { bids = { { bidder, offer, proxy }, { s.leader, math.min(top, offer + inc), true } },
    keep = top }
end

-- The leader wins at the current price if it meets the reserve (dutch closes so too).
local function outcome_leader(s)
  if s.current_price == '' or s.leader == '' then return unsold() end
  if s.reserve ~= '' and tonumber(s.current_price) < tonumber(s.reserve) then return unsold() end
  return { outcome = 'sold', winner = s.leader, winner_paddle = s.leader_paddle,
    price = s.current_price }
end

kind('english', decide_english, outcome_leader, english_minimum)
