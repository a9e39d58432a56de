-- english.lua: the english decider, as rules_kinds.decide_english (needs lib.lua).
-- A decider returns a reject code, or 'bad' and a message (a caller's bug), or a plan:
-- {bids = {{bidder, amount, by_proxy}, ...}, keep = proxy max left to the winner, soft = true}.
--
-- Proxy bidding, eBay-style: only the leader can hold a live proxy (proxy_max, kept only
-- while above the current price), so a request meets at most one and resolves in two bids:
-- the loser's at his maximum, then the winner's at min(his maximum, loser's + increment);
-- a plain bid is placed at its own amount. Equal maxima go to the earlier proxy (the leader).
local function decide_english(s, bidder, amount, max, now)
  if (amount == nil) == (max == nil) then
    return 'bad', 'an english bid has either an amount or a max_amount'
  end
  local code = window_check(s, now)
  if not code and s.leader == bidder then code = 'already_leading' end
  local offer = max or amount
  local inc = tonumber(s.increment)
  local minimum = tonumber(s.starting_price)
  if s.current_price ~= '' then minimum = tonumber(s.current_price) + inc end
  if not code and offer < minimum then code = 'bid_too_low' end
  if code then return code end

  local proxy = max ~= nil
  local top = nil
  if s.proxy_max ~= '' then top = tonumber(s.proxy_max) end
  if s.leader == '' or top == nil then
    local value = offer
    if proxy then value = minimum end
    return { bids = { { bidder, value, proxy } }, keep = max, soft = true }
  end
  if offer > top then  -- the challenger beats the leader's proxy
    local value = offer
    if proxy then value = math.min(offer, top + inc) end
    return { bids = { { s.leader, top, true }, { bidder, value, proxy } }, keep = max, soft = true }
  end
  -- the leader's proxy holds (ties go to it: it is the earlier)
  return { bids = { { bidder, offer, proxy }, { s.leader, math.min(top, offer + inc), true } },
    keep = top, soft = true }
end
