"""sealed_second_price: bids as sealed_first_price; the winner pays the runner-up's bid (the
starting price when alone), never below the reserve.

Its Lua twin is lua/kinds/sealed_second_price.lua; both run on tests/auctions/domain/cases_kinds.py.
"""

from __future__ import annotations

from dataclasses import replace

from app.auctions.domain.kinds import sealed_first_price
from app.auctions.domain.kinds.sealed_first_price import ranked_if_sold
from app.auctions.domain.model import Outcome, RoundSpec, RoundState


def outcome(spec: RoundSpec, state: RoundState) -> Outcome:
    """The best standing bid wins at the runner-up's bid, never below the reserve."""
    ranked = ranked_if_sold(spec, state)
    if not ranked:
        return Outcome(sold=False)
    price = ranked[1].amount if len(ranked) > 1 else spec.starting_price
    return Outcome(True, ranked[0].bidder, max(price, spec.reserve or 0))


KIND = replace(sealed_first_price.KIND, name="sealed_second_price", outcome=outcome)
