-- kinds/sealed_first_price.lua: the sealed first-price kind, as
-- app/auctions/domain/kinds/sealed_first_price.py; kinds/sealed_second_price.lua builds on it.

-- One sealed bid per bidder, at least the starting price; a new one replaces the old. Being
-- sealed (kinds.lua), it writes no event and no price or leader: the close ranks the bids.
local function decide_sealed(s, bidder, amount, max, now)
  if max then return 'bad', 'proxy bidding (max_amount) is for english rounds, not ' .. s.kind end
  if not amount then return 'bad', 'a sealed bid needs an amount' end
  local code = window_check(s, now)
  if not code and amount < tonumber(s.starting_price) then code = 'bid_too_low' end
  if code then return code end
  return { bids = { { bidder, amount, false } } }
end

-- The standing bids best first when the best meets the reserve; nil when unsold.
local function ranked_if_sold(s, bids)
  local list = ranked_bids(bids, nil)
  if not list[1] then return nil end
  if s.reserve ~= '' and list[1].amount < tonumber(s.reserve) then return nil end
  return list
end

-- The best standing bid sold at price.
local function sold_to_best(list, price, bidders)
  return { outcome = 'sold', winner = list[1].bidder,
    winner_paddle = redis.call('HGET', bidders, list[1].bidder) or '', price = istr(price) }
end

-- The best standing bid wins at its own amount if it meets the reserve.
local function outcome_first_price(s, bids, bidders)
  local list = ranked_if_sold(s, bids)
  if not list then return unsold() end
  return sold_to_best(list, list[1].amount, bidders)
end

kind('sealed_first_price', decide_sealed, outcome_first_price)
