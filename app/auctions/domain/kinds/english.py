"""english: ascending bids by the increment, soft close, proxy bidding (eBay-style).

Its Lua twin is lua/kinds/english.lua; both run on the case table in tests/auctions/domain/cases.py.
"""

from __future__ import annotations

from dataclasses import replace

from app.auctions.domain.kinds.base import (
    Kind,
    Restored,
    TrailBid,
    standing_of,
    window_check,
)
from app.auctions.domain.model import (
    Accepted,
    Decision,
    Outcome,
    Placed,
    Rejected,
    RoundSpec,
    RoundState,
    StandingBid,
    soft_close_ends_at,
    with_bid,
)

# (bidder, amount, by_proxy)
_Plan = list[tuple[str, int, bool]]


def minimum(spec: RoundSpec, state: RoundState, now_ms: int | None = None) -> int:
    """The lowest amount the next english bid may have: current + increment (the starting
    price first)."""
    if state.current_price is None:
        return spec.starting_price
    return state.current_price + spec.increment


def decide(
    spec: RoundSpec, state: RoundState, bidder: str, amount: int | None,
    max_amount: int | None, now_ms: int,
) -> Decision:
    """Ascending bids by the increment, the leader may not raise himself, soft close.

    A plain bid (amount) is placed as it is. A proxy bid (max_amount) is a secret maximum
    the engine bids from, eBay-style: only the leader can hold a live proxy (any other was
    outbid past its maximum), so a request meets at most one, and resolves in two bids:
    the loser's at his maximum, then the winner's at min(his maximum, loser's + increment)
    (a plain bid is placed at its own amount). Equal maxima go to the earlier proxy, i.e.
    the leader, whose answer then equals the challenger's bid.
    """
    if (amount is None) == (max_amount is None):
        raise ValueError("an english bid has either an amount or a max_amount")
    code = window_check(spec, state, now_ms)
    if code is None and state.leader == bidder:
        code = "already_leading"
    offer: int = amount if max_amount is None else max_amount  # type: ignore[assignment]
    lowest = minimum(spec, state)
    if code is None and offer < lowest:
        code = "bid_too_low"
    if code is not None:
        return Rejected(code)
    proxy = max_amount is not None
    leader, top = state.leader, state.proxy_max
    plan: _Plan
    if leader is None or top is None:
        plan = [(bidder, lowest if proxy else offer, proxy)]
        keep = max_amount
    elif offer > top:  # the challenger beats the leader's proxy
        plan = [(leader, top, True), (bidder, min(offer, top + spec.increment) if proxy else offer, proxy)]
        keep = max_amount
    else:  # the leader's proxy holds (ties go to it: it is the earlier)
        plan = [(bidder, offer, proxy), (leader, min(top, offer + spec.increment), True)]
        keep = top
    return _place(spec, state, bidder, plan, keep, now_ms)


def _place(
    spec: RoundSpec, state: RoundState, bidder: str, plan: _Plan, keep: int | None, now_ms: int
) -> Accepted:
    """Apply a plan of english bids at now_ms: one seq each, soft close after each."""
    ends, seq, bids, placed = state.ends_at_ms, state.seq, state.bids, []
    for who, value, by_proxy in plan:
        seq += 1
        moved = soft_close_ends_at(spec, ends, now_ms)
        placed.append(Placed(who, value, seq, moved, moved != ends, by_proxy))
        ends = moved
        bids = with_bid(bids, StandingBid(who, value, seq))
    last = placed[-1]
    price = last.amount
    new = replace(
        state, current_price=price, leader=last.bidder, bid_count=state.bid_count + len(plan),
        seq=seq, ends_at_ms=ends, bids=bids,
        proxy_max=keep if keep is not None and keep > price else None,
    )
    own = next(p for p in placed if p.bidder == bidder)
    return Accepted(new, own.amount, ends != state.ends_at_ms, ends, own.seq,
                    placed=tuple(placed), outbid=last.bidder != bidder)


def outcome_leader(spec: RoundSpec, state: RoundState) -> Outcome:
    """Sold to the leader at the current price if it meets the reserve (dutch closes so too)."""
    price = state.current_price
    if price is None or state.leader is None:
        return Outcome(sold=False)
    if spec.reserve is not None and price < spec.reserve:
        return Outcome(sold=False)
    return Outcome(sold=True, winner=state.leader, price=price)


def restore(spec: RoundSpec, trail: list[TrailBid], seq: int) -> Restored:
    """The last bid leads (with the proxy maximum it left) and says where the end has moved."""
    last = trail[-1]
    state = RoundState(
        ends_at_ms=max(last.ends_at_ms, spec.ends_at_ms), current_price=last.amount,
        leader=last.bidder, bid_count=len(trail), seq=seq, bids=standing_of(trail),
        proxy_max=last.proxy_max,
    )
    return Restored(spec, state, last.paddle)


def check_restore(spec: RoundSpec, state: RoundState) -> None:
    """Any leader, price and proxy may be restored (the engine checks they fit together)."""


KIND = Kind(
    name="english", decide=decide, outcome=outcome_leader, restore=restore,
    check_restore=check_restore, soft_close=True, starts_at_best_bid=True,
    minimum_next_bid=minimum,
)
