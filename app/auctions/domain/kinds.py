"""The round kinds: how each decides a bid and works out its outcome (pure; see rules.py).

The Lua scripts (lua/english.lua, lua/kinds.lua, lua/lib.lua) implement the same decisions
and are tested against these on the same table of cases (tests/auctions/domain/cases.py).
"""

from __future__ import annotations

from dataclasses import replace

from app.auctions.domain.model import (
    Accepted,
    Decision,
    Outcome,
    Placed,
    RejectCode,
    Rejected,
    RoundSpec,
    RoundState,
    StandingBid,
    dutch_price,
    rank,
    soft_close_ends_at,
    with_bid,
)


def window_check(spec: RoundSpec, state: RoundState, now_ms: int) -> RejectCode | None:
    """Closed, not open yet, or past its end: the checks every kind makes first."""
    if state.closed:
        return "auction_closed"
    if now_ms < spec.starts_at_ms:
        return "auction_not_open"
    if now_ms >= state.ends_at_ms:
        return "auction_closed"
    return None


def english_minimum(spec: RoundSpec, state: RoundState) -> int:
    """The lowest amount the next english bid may have."""
    if state.current_price is None:
        return spec.starting_price
    return state.current_price + spec.increment


def _no_proxy(kind: str, max_amount: int | None) -> None:
    if max_amount is not None:
        raise ValueError(f"proxy bidding (max_amount) is for english rounds, not {kind}")


# --- english, with proxy bidding -------------------------------------------------------------

# (bidder, amount, by_proxy)
_Plan = list[tuple[str, int, bool]]


def decide_english(
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
    minimum = english_minimum(spec, state)
    if code is None and offer < minimum:
        code = "bid_too_low"
    if code is not None:
        return Rejected(code)
    proxy = max_amount is not None
    leader, top = state.leader, state.proxy_max
    plan: _Plan
    if leader is None or top is None:
        plan = [(bidder, minimum if proxy else offer, proxy)]
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
    """english and dutch: sold to the leader at the current price if it meets the reserve."""
    price = state.current_price
    if price is None or state.leader is None:
        return Outcome(sold=False)
    if spec.reserve is not None and price < spec.reserve:
        return Outcome(sold=False)
    return Outcome(sold=True, winner=state.leader, price=price)


# --- sealed ----------------------------------------------------------------------------------


def decide_sealed(
    spec: RoundSpec, state: RoundState, bidder: str, amount: int | None,
    max_amount: int | None, now_ms: int,
) -> Decision:
    """One sealed bid per bidder, at least the starting price; a new one replaces the old
    (higher or lower) and takes the new bid's seq. No soft close, nothing about other bids."""
    _no_proxy(spec.kind, max_amount)
    if amount is None:
        raise ValueError("a sealed bid needs an amount")
    code = window_check(spec, state, now_ms)
    if code is None and amount < spec.starting_price:
        code = "bid_too_low"
    if code is not None:
        return Rejected(code)
    seq = state.seq + 1
    new = replace(state, bid_count=state.bid_count + 1, seq=seq,
                  bids=with_bid(state.bids, StandingBid(bidder, amount, seq)))
    placed = Placed(bidder, amount, seq, state.ends_at_ms, False)
    return Accepted(new, amount, False, state.ends_at_ms, seq, placed=(placed,))


def outcome_sealed(spec: RoundSpec, state: RoundState) -> Outcome:
    """The highest standing bid wins (ties: the earlier standing bid) if it meets the
    reserve; first price pays its bid, second price the runner-up's (the starting price
    when alone), never below the reserve."""
    ranked = rank(state.bids)
    if not ranked or (spec.reserve is not None and ranked[0].amount < spec.reserve):
        return Outcome(sold=False)
    best = ranked[0]
    if spec.kind == "sealed_first_price":
        return Outcome(True, best.bidder, best.amount)
    price = ranked[1].amount if len(ranked) > 1 else spec.starting_price
    return Outcome(True, best.bidder, max(price, spec.reserve or 0))


# --- dutch -----------------------------------------------------------------------------------


def decide_dutch(
    spec: RoundSpec, state: RoundState, bidder: str, amount: int | None,
    max_amount: int | None, now_ms: int,
) -> Decision:
    """The first bid takes the lot at the clock price of its instant and closes the round
    (ends_at becomes now). amount is optional: when given it is the most the bidder will
    pay, and the bid is refused (bid_too_low) while the price is still above it."""
    _no_proxy(spec.kind, max_amount)
    code = window_check(spec, state, now_ms)
    price = dutch_price(spec, now_ms)
    if code is None and amount is not None and amount < price:
        code = "bid_too_low"
    if code is not None:
        return Rejected(code)
    seq = state.seq + 1
    new = replace(
        state, current_price=price, leader=bidder, bid_count=state.bid_count + 1, seq=seq,
        ends_at_ms=now_ms, closed=True,
        bids=with_bid(state.bids, StandingBid(bidder, price, seq)),
    )
    return Accepted(new, price, False, now_ms, seq, placed=(Placed(bidder, price, seq, now_ms, False),))
