"""sealed_first_price: one replaceable sealed bid per bidder; the highest standing bid wins
(ties: the earlier standing bid) and pays its bid. sealed_second_price builds on this module.

Its Lua twin is lua/kinds/sealed_first_price.lua; both run on tests/auctions/domain/cases_kinds.py.
"""

from __future__ import annotations

from dataclasses import replace

from app.auctions.domain import model
from app.auctions.domain.kinds import base
from app.auctions.domain.model import Accepted, Decision, Outcome, Placed, Rejected, RoundSpec, RoundState


def decide(
    spec: RoundSpec, state: RoundState, bidder: str, amount: int | None,
    max_amount: int | None, now_ms: int,
) -> Decision:
    """One sealed bid per bidder, at least the starting price; a new one replaces the old
    (higher or lower) and takes the new bid's seq. No soft close, nothing about other bids."""
    base.no_proxy(spec.kind, max_amount)
    if amount is None:
        raise ValueError("a sealed bid needs an amount")
    code = base.window_check(spec, state, now_ms)
    if code is None and amount < spec.starting_price:
        code = "bid_too_low"
    if code is not None:
        return Rejected(code)
    seq = state.seq + 1
    new = replace(state, bid_count=state.bid_count + 1, seq=seq,
                  bids=model.with_bid(state.bids, model.StandingBid(bidder, amount, seq)))
    placed = Placed(bidder, amount, seq, state.ends_at_ms, False)
    return Accepted(new, amount, False, state.ends_at_ms, seq, placed=(placed,))


def ranked_if_sold(spec: RoundSpec, state: RoundState) -> list[model.StandingBid]:
    """The standing bids best first when the best meets the reserve; empty when unsold."""
    ranked = model.rank(state.bids)
    if not ranked or (spec.reserve is not None and ranked[0].amount < spec.reserve):
        return []
    return ranked


def outcome(spec: RoundSpec, state: RoundState) -> Outcome:
    """The best standing bid wins at its own amount if it meets the reserve."""
    ranked = ranked_if_sold(spec, state)
    if not ranked:
        return Outcome(sold=False)
    return Outcome(True, ranked[0].bidder, ranked[0].amount)


def restore(spec: RoundSpec, trail: list[base.TrailBid], seq: int) -> base.Restored:
    """Every bidder's standing bid; no price or leader until the close ranks them."""
    state = RoundState(ends_at_ms=spec.ends_at_ms, bid_count=len(trail), seq=seq,
                       bids=base.standing_of(trail))
    return base.Restored(spec, state)


KIND = base.Kind(
    name="sealed_first_price", decide=decide, outcome=outcome, restore=restore,
    check_restore=base.no_open_leader, sealed=True,
)
