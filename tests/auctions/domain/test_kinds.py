"""Properties of proxy bidding, sealed and dutch rounds, and advance(), against brute-force
oracles written independently of rules_kinds.py."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.auctions.domain.rules import (
    Accepted,
    Advance,
    Outcome,
    Rejected,
    RoundSpec,
    RoundState,
    StandingBid,
    advance,
    decide_bid,
    dutch_price,
    effective_status,
    minimum_next_bid,
    round_outcome,
)

BIDDERS = ("alice", "bob", "carol", "dave")


# --- sealed --------------------------------------------------------------------------------


@st.composite
def sealed_specs(draw: st.DrawFn) -> RoundSpec:
    return RoundSpec(
        draw(st.sampled_from(["sealed_first_price", "sealed_second_price"])), 0,
        draw(st.integers(1, 20_000)), draw(st.integers(1, 1_000)), draw(st.integers(1, 200)),
        window_ms=draw(st.integers(0, 10_000)), extension_ms=draw(st.integers(0, 10_000)),
        reserve=draw(st.none() | st.integers(1, 3_000)),
    )


def sealed_oracle(s: RoundSpec, standing: dict[str, tuple[int, int]]) -> Outcome:
    """Highest amount, then earliest seq; first price pays it, second price the runner-up."""
    if not standing:
        return Outcome(False)
    winner = max(standing, key=lambda b: (standing[b][0], -standing[b][1]))
    best = standing[winner][0]
    if s.reserve is not None and best < s.reserve:
        return Outcome(False)
    if s.kind == "sealed_first_price":
        return Outcome(True, winner, best)
    others = [a for b, (a, _) in standing.items() if b != winner]
    second = max(others) if others else s.starting_price
    return Outcome(True, winner, max(second, s.reserve or 0))


@settings(max_examples=200, deadline=None)
@given(s=sealed_specs(), data=st.data())
def test_sealed_invariants(s: RoundSpec, data: st.DataObject) -> None:
    state, now, standing = RoundState.initial(s), -500, {}
    for _ in range(data.draw(st.integers(0, 30))):
        now += data.draw(st.integers(0, 1_500))
        bidder = data.draw(st.sampled_from(BIDDERS))
        amount = data.draw(st.integers(1, 4_000))
        decision = decide_bid(s, state, bidder=bidder, amount=amount, now_ms=now)
        status = effective_status(s, state, now)
        if status != "open":
            expected = "auction_not_open" if status == "scheduled" else "auction_closed"
            assert decision == Rejected(expected)  # type: ignore[arg-type]
            continue
        if amount < s.starting_price:
            assert decision == Rejected("bid_too_low")
            continue
        assert isinstance(decision, Accepted) and not decision.extended
        new = decision.state
        assert (new.seq, new.bid_count, new.ends_at_ms) == (state.seq + 1, state.bid_count + 1,
                                                            s.ends_at_ms)
        assert (new.current_price, new.leader, new.proxy_max) == (None, None, None)
        standing[bidder] = (amount, new.seq)
        state = new
    assert {b.bidder: (b.amount, b.seq) for b in state.bids} == standing
    outcome = round_outcome(s, state)
    assert outcome == sealed_oracle(s, standing)
    if outcome.sold:
        assert outcome.price <= standing[outcome.winner][0]  # type: ignore[index,operator]
        assert outcome.price >= max(s.starting_price, s.reserve or 0)  # type: ignore[operator]


# --- dutch ---------------------------------------------------------------------------------


@st.composite
def dutch_specs(draw: st.DrawFn) -> RoundSpec:
    start = draw(st.integers(1, 100_000))
    floor = draw(st.integers(1, start))
    return RoundSpec(
        "dutch", 1_000, 1_000 + draw(st.integers(1, 200_000)), start, 1,
        step=draw(st.integers(1, 20_000)), interval_ms=draw(st.integers(1, 5_000)), floor=floor,
        reserve=draw(st.none() | st.integers(1, floor)),
    )


def clock_oracle(s: RoundSpec, now: int) -> int:
    """The price walked down one interval at a time."""
    price, t = s.starting_price, s.starts_at_ms
    while t + s.interval_ms <= now:  # type: ignore[operator]
        t += s.interval_ms  # type: ignore[operator]
        price = max(s.floor, price - s.step)  # type: ignore[operator,type-var]
    return price


@settings(max_examples=200, deadline=None)
@given(s=dutch_specs(), times=st.lists(st.integers(0, 250_000), min_size=2, max_size=10))
def test_dutch_clock(s: RoundSpec, times: list[int]) -> None:
    prices = [dutch_price(s, s.starts_at_ms + t) for t in sorted(times)]
    assert all(a >= b for a, b in itertools.pairwise(prices))
    assert all(s.floor <= p <= s.starting_price for p in prices)  # type: ignore[operator]
    t = times[0]
    if t // s.interval_ms <= 2_000:  # type: ignore[operator]
        assert dutch_price(s, s.starts_at_ms + t) == clock_oracle(s, s.starts_at_ms + t)


@settings(max_examples=200, deadline=None)
@given(s=dutch_specs(), data=st.data())
def test_dutch_first_bid_takes_the_lot(s: RoundSpec, data: st.DataObject) -> None:
    state, now, taken = RoundState.initial(s), 0, None
    for _ in range(data.draw(st.integers(1, 12))):
        now += data.draw(st.integers(0, 30_000))
        bidder = data.draw(st.sampled_from(BIDDERS))
        cap = data.draw(st.none() | st.integers(1, 120_000))
        decision = decide_bid(s, state, bidder=bidder, amount=cap, now_ms=now)
        status = effective_status(s, state, now)
        if taken is not None or status == "closed":
            assert decision == Rejected("auction_closed")
        elif status == "scheduled":
            assert decision == Rejected("auction_not_open")
        elif cap is not None and cap < dutch_price(s, now):
            assert decision == Rejected("bid_too_low")
        else:
            assert isinstance(decision, Accepted)
            assert decision.amount == dutch_price(s, now) == minimum_next_bid(s, state, now_ms=now)
            assert decision.state.closed and decision.ends_at_ms == now
            taken = (bidder, decision.amount)
            state = decision.state
    outcome = round_outcome(s, state)
    assert outcome == (Outcome(True, *taken) if taken else Outcome(False))


def test_dutch_minimum_next_bid_needs_the_time() -> None:
    s = RoundSpec("dutch", 0, 100, 1_000, 1, step=10, interval_ms=10, floor=900)
    with pytest.raises(ValueError, match="now_ms"):
        minimum_next_bid(s, RoundState.initial(s))
    assert minimum_next_bid(s, RoundState.initial(s), now_ms=35) == 970


# --- english proxy bidding -----------------------------------------------------------------


@st.composite
def english_specs(draw: st.DrawFn) -> RoundSpec:
    return RoundSpec("english", 0, 1_000_000, draw(st.integers(1, 1_000)),
                     draw(st.integers(1, 300)), window_ms=draw(st.integers(0, 5_000)),
                     extension_ms=draw(st.integers(0, 5_000)))


@settings(max_examples=250, deadline=None)
@given(s=english_specs(), data=st.data())
def test_proxies_alone_give_the_second_price_plus_increment(s: RoundSpec, data: st.DataObject) -> None:
    """Only proxy bids: the highest maximum leads (ties: the earlier), at min(M1, M2 + inc)."""
    state, maxima = RoundState.initial(s), {}
    for i in range(data.draw(st.integers(1, 25))):
        bidder = data.draw(st.sampled_from(BIDDERS))
        top = data.draw(st.integers(1, 6_000))
        decision = decide_bid(s, state, bidder=bidder, max_amount=top, now_ms=10 + i)
        if isinstance(decision, Accepted):
            maxima[bidder] = (top, i)
            state = decision.state
        else:
            assert decision.code in ("bid_too_low", "already_leading")
            assert decision.code != "bid_too_low" or top < minimum_next_bid(s, state)
    ranked = sorted(maxima.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    if not ranked:
        return
    assert state.leader == ranked[0][0]
    first = ranked[0][1][0]
    price = s.starting_price if len(ranked) == 1 else min(first, ranked[1][1][0] + s.increment)
    assert state.current_price == price


@settings(max_examples=250, deadline=None)
@given(s=english_specs(), data=st.data())
def test_mixed_bids_keep_the_trail_sound_and_the_max_secret(s: RoundSpec, data: st.DataObject) -> None:
    state, trail = RoundState.initial(s), []
    for i in range(data.draw(st.integers(1, 30))):
        bidder = data.draw(st.sampled_from(BIDDERS))
        # Amounts are positive: the engine refuses 0 before any rule runs.
        offer = max(1, minimum_next_bid(s, state) + data.draw(st.integers(-50, 3_000)))
        proxy = data.draw(st.booleans())
        kwargs = {"max_amount": offer} if proxy else {"amount": offer}
        before = state
        decision = decide_bid(s, state, bidder=bidder, now_ms=10 + i, **kwargs)
        if isinstance(decision, Rejected):
            continue
        placed = decision.placed
        own = next(p for p in placed if p.bidder == bidder)
        assert own.amount <= offer and (proxy or own.amount == offer)
        assert len(placed) in (1, 2) and placed[-1].amount > (before.current_price or 0)
        assert all(a.amount <= b.amount for a, b in itertools.pairwise(placed))
        assert [p.bidder for p in placed][-2:] != [bidder, bidder]
        if len(placed) == 2:  # a proxy took part: the leader's before
            assert before.proxy_max is not None and placed[0].bidder != placed[1].bidder
        state = decision.state
        trail += placed
        assert (state.leader, state.current_price) == (placed[-1].bidder, placed[-1].amount)
        if state.proxy_max is not None:  # a live maximum is above every amount ever shown
            assert all(p.amount < state.proxy_max for p in trail)
    assert [p.seq for p in trail] == list(range(1, len(trail) + 1))
    assert all(a.amount <= b.amount for a, b in itertools.pairwise(trail))


def test_proxy_misuse_is_a_caller_error() -> None:
    english = RoundSpec("english", 0, 100, 10, 1)
    sealed = RoundSpec("sealed_first_price", 0, 100, 10, 1)
    dutch = RoundSpec("dutch", 0, 100, 10, 1, step=1, interval_ms=1, floor=1)
    for kwargs in ({}, {"amount": 20, "max_amount": 30}):
        with pytest.raises(ValueError, match="either"):
            decide_bid(english, RoundState.initial(english), bidder="a", now_ms=5, **kwargs)
    with pytest.raises(ValueError, match="needs an amount"):
        decide_bid(sealed, RoundState.initial(sealed), bidder="a", now_ms=5)
    for s in (sealed, dutch):
        with pytest.raises(ValueError, match="english rounds"):
            decide_bid(s, RoundState.initial(s), bidder="a", amount=20, max_amount=30, now_ms=5)


# --- advance -------------------------------------------------------------------------------


def test_advance_takes_the_best_standing_bids() -> None:
    trail = [StandingBid("a", 30, 1), StandingBid("b", 50, 2), StandingBid("c", 40, 3),
             StandingBid("a", 45, 4), StandingBid("d", 40, 5)]
    assert advance(trail, 3) == Advance(("b", "a", "c"), 50)
    assert advance(trail, 10) == Advance(("b", "a", "c", "d"), 50)
    assert advance([], 3) == Advance((), None)
    # a sealed bidder's standing bid is his latest, even when lower
    assert advance([*trail, StandingBid("b", 10, 6)], 1) == Advance(("a",), 45)
    # an english leader after a proxy tie holds the top amount with the later seq
    tie = [StandingBid("bob", 50, 7), StandingBid("alice", 50, 8)]
    assert advance(tie, 1, leader="alice") == Advance(("alice",), 50)
    with pytest.raises(ValueError):
        advance(trail, 0)


@settings(max_examples=200, deadline=None)
@given(bids=st.lists(st.tuples(st.sampled_from(BIDDERS), st.integers(1, 50)), max_size=20),
       n=st.integers(1, 5))
def test_advance_matches_brute_force(bids: list[tuple[str, int]], n: int) -> None:
    trail = [StandingBid(b, a, i + 1) for i, (b, a) in enumerate(bids)]
    latest = {b.bidder: b for b in trail}
    order = sorted(latest.values(), key=lambda b: (-b.amount, b.seq))
    result = advance(reversed(trail), n)
    assert result.bidders == tuple(b.bidder for b in order[:n])
    assert result.best == (order[0].amount if order else None)


def test_restored_state_equals_replayed_state() -> None:
    """bids in the state make a sealed round restorable from its trail alone."""
    s = RoundSpec("sealed_second_price", 0, 100, 10, 1)
    state = RoundState.initial(s)
    for seq, (who, amount) in enumerate([("a", 30), ("b", 20), ("a", 25)], start=1):
        decision = decide_bid(s, state, bidder=who, amount=amount, now_ms=seq)
        assert isinstance(decision, Accepted)
        state = decision.state
    rebuilt = replace(RoundState.initial(s), seq=3, bid_count=3,
                      bids=(StandingBid("a", 25, 3), StandingBid("b", 20, 2)))
    assert rebuilt == state and round_outcome(s, state) == Outcome(True, "a", 20)
