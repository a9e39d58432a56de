"""dutch: the clock price falls by step every interval down to floor; the first bid takes
the lot at the price of its instant and closes the round.

Its Lua twin is lua/kinds/dutch.lua; both run on the case table in tests/auctions/domain/cases_kinds.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from app.auctions.domain.kinds import english
from app.auctions.domain.kinds.base import (
    Kind,
    Refusal,
    Restored,
    TrailBid,
    no_open_leader,
    no_proxy,
    standing_of,
    window_check,
)
from app.auctions.domain.model import (
    MAX_AMOUNT,
    Accepted,
    Decision,
    Placed,
    Rejected,
    RoundSpec,
    RoundState,
    StandingBid,
    require_int,
    with_bid,
)

NAME = "dutch"


def price(spec: RoundSpec, now_ms: int) -> int:
    """The dutch clock: start - step * whole intervals elapsed, never below the floor."""
    if spec.kind != NAME:
        raise ValueError(f"a {spec.kind} round has no falling price")
    drops = max(0, now_ms - spec.starts_at_ms) // spec.interval_ms  # type: ignore[operator]
    return max(spec.floor, spec.starting_price - spec.step * drops)  # type: ignore[operator]


def minimum(spec: RoundSpec, state: RoundState, now_ms: int | None) -> int:
    """The clock price at now_ms (which is required: the price depends on the time)."""
    if now_ms is None:
        raise ValueError("the dutch price depends on the time: pass now_ms")
    return price(spec, now_ms)


def decide(
    spec: RoundSpec, state: RoundState, bidder: str, amount: int | None,
    max_amount: int | None, now_ms: int,
) -> Decision:
    """The first bid takes the lot at the clock price of its instant and closes the round
    (ends_at becomes now). amount is optional: when given it is the most the bidder will
    pay, and the bid is refused (bid_too_low) while the price is still above it."""
    no_proxy(spec.kind, max_amount)
    code = window_check(spec, state, now_ms)
    taken_at = price(spec, now_ms)
    if code is None and amount is not None and amount < taken_at:
        code = "bid_too_low"
    if code is not None:
        return Rejected(code)
    seq = state.seq + 1
    new = replace(
        state, current_price=taken_at, leader=bidder, bid_count=state.bid_count + 1, seq=seq,
        ends_at_ms=now_ms, closed=True,
        bids=with_bid(state.bids, StandingBid(bidder, taken_at, seq)),
    )
    return Accepted(new, taken_at, False, now_ms, seq,
                    placed=(Placed(bidder, taken_at, seq, now_ms, False),))


def refuse_params(params: Mapping[str, int], starting_price: int, reserve: int | None) -> Refusal | None:
    """The floor must lie between the reserve (or it could sell under it) and the start."""
    if params["floor"] > starting_price:
        return Refusal("floor_above_starting_price",
                       "The dutch floor must not be above the starting price.")
    if reserve is not None and params["floor"] < reserve:
        return Refusal("floor_below_reserve", "The dutch floor must not be below the reserve price.")
    return None


def check_spec(spec: RoundSpec) -> None:
    """step, interval_ms and floor are positive integers, the floor within the prices."""
    require_int("step", spec.step, minimum=1, maximum=MAX_AMOUNT)
    require_int("interval_ms", spec.interval_ms, minimum=1)
    require_int("floor", spec.floor, minimum=1, maximum=MAX_AMOUNT)
    refusal = refuse_params({"floor": spec.floor}, spec.starting_price, spec.reserve)  # type: ignore[dict-item]
    if refusal is not None:
        raise ValueError(refusal.message)


def restore(spec: RoundSpec, trail: list[TrailBid], seq: int) -> Restored:
    """The lot was taken by the first bid: the round ends then, and the closer sells it."""
    took = trail[0]
    spec = replace(spec, ends_at_ms=max(took.placed_at_ms, spec.starts_at_ms + 1))
    state = RoundState(ends_at_ms=spec.ends_at_ms, current_price=took.amount, leader=took.bidder,
                       bid_count=1, seq=seq, bids=standing_of(trail))
    return Restored(spec, state, took.paddle)


def check_restore(spec: RoundSpec, state: RoundState) -> None:
    """Nobody leads an untaken round; a taken one ends when it was taken."""
    if state.leader is None:
        no_open_leader(spec, state)
    elif state.proxy_max or state.ends_at_ms != spec.ends_at_ms:
        raise ValueError("a dutch round restored with its taker must end when it was taken")


KIND = Kind(
    name=NAME, decide=decide, outcome=english.outcome_leader, restore=restore,
    check_restore=check_restore, must_be_final="sells to its first bidder",
    params=("step", "interval_ms", "floor"), amount_is_cap=True, minimum_next_bid=minimum,
    check_spec=check_spec, refuse_params=refuse_params,
)
