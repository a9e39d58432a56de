-- kinds/sealed_second_price.lua: the sealed second-price kind, as
-- app/auctions/domain/kinds/sealed_second_price.py: bids as kinds/sealed_first_price.lua.

-- The best standing bid wins at the runner-up's bid (the starting price when alone), never
-- below the reserve.
local function outcome_second_price(s, bids, bidders)
  local list = ranked_if_sold(s, bids)
  if not list then return unsold() end
  local price = tonumber(s.starting_price)
  if list[2] then price = list[2].amount end
  if s.reserve ~= '' then price = math.max(price, tonumber(s.reserve)) end
  return sold_to_best(list, price, bidders)
end

kind('sealed_second_price', decide_sealed, outcome_second_price)
