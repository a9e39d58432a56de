"""rules.py on the shared case table, edge cases, and hypothesis properties."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.auctions.domain.rules import (
    MAX_AMOUNT,
    REJECT_CODES,
    Accepted,
    Outcome,
    Rejected,
    RoundSpec,
    RoundState,
    StandingBid,
    UnsupportedRoundKind,
    decide_bid,
    effective_status,
    is_sealed,
    minimum_next_bid,
    round_outcome,
    with_bid,
)

from .cases import Case, OutcomeCase, apply_prior, decide, prior_state, spec_for
from .cases_kinds import ALL_CASES, ALL_OUTCOME_CASES, expected_placed, outcome_spec

ORIGIN = 1_700_000_000_000


def spec(**overrides: object) -> RoundSpec:
    base: dict[str, object] = {
        "kind": "english", "starts_at_ms": 1_000, "ends_at_ms": 10_000,
        "starting_price": 100, "increment": 10,
    }
    return RoundSpec(**{**base, **overrides})  # type: ignore[arg-type]


def test_case_names_are_unique() -> None:
    assert len({c.name for c in ALL_CASES}) == len(ALL_CASES)
    assert len({c.name for c in ALL_OUTCOME_CASES}) == len(ALL_OUTCOME_CASES)
    assert all(c.expect == "accepted" or c.expect in REJECT_CODES for c in ALL_CASES)


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_case_table(case: Case) -> None:
    s = spec_for(case, ORIGIN)
    before = prior_state(case, s, ORIGIN)
    bid = case.bid
    decision = decide(s, before, bid.bidder, bid.amount, ORIGIN, bid.max_amount)
    if case.expect != "accepted":
        assert decision == Rejected(case.expect)  # type: ignore[arg-type]
        return
    assert isinstance(decision, Accepted)
    ends = before.ends_at_ms if case.expect_ends is None else ORIGIN + case.expect_ends
    assert (decision.ends_at_ms, decision.extended) == (ends, case.expect_extended)
    placed = expected_placed(case)
    assert [(p.bidder, p.amount) for p in decision.placed] == placed
    assert [p.seq for p in decision.placed] == list(range(before.seq + 1, before.seq + len(placed) + 1))
    own = next(p for p in decision.placed if p.bidder == bid.bidder)
    assert (decision.amount, decision.seq, decision.outbid) == (own.amount, own.seq, case.expect_outbid)
    new = decision.state
    assert (new.seq, new.bid_count, new.ends_at_ms) == (
        before.seq + len(placed), before.bid_count + len(placed), ends)
    for p in {p.bidder: p for p in decision.placed}.values():  # each bidder's last bid stands
        assert StandingBid(p.bidder, p.amount, p.seq) in new.bids
    if is_sealed(s):
        assert (new.current_price, new.leader, new.proxy_max) == (None, None, None)
    else:
        assert (new.leader, new.current_price) == placed[-1]
    assert new.closed == (s.kind == "dutch")


def test_plain_english_bids_change_only_price_leader_and_counters() -> None:
    for case in (c for c in ALL_CASES if c.kind == "english" and c.expect == "accepted"):
        if case.expect_placed or case.bid.max_amount or any(b.max_amount for b in case.prior):
            continue
        s = spec_for(case, ORIGIN)
        before = prior_state(case, s, ORIGIN)
        decision = decide(s, before, case.bid.bidder, case.bid.amount, ORIGIN)
        assert isinstance(decision, Accepted)
        assert decision.state == replace(
            before, current_price=case.bid.amount, leader=case.bid.bidder,
            ends_at_ms=decision.ends_at_ms, bid_count=before.bid_count + 1, seq=before.seq + 1,
            bids=with_bid(before.bids, StandingBid(case.bid.bidder, case.bid.amount, before.seq + 1)),
        ), case.name


@pytest.mark.parametrize("case", ALL_OUTCOME_CASES, ids=str)
def test_outcome_table(case: OutcomeCase) -> None:
    s = outcome_spec(case, ORIGIN)
    state = apply_prior(s, case.prior, ORIGIN)
    assert round_outcome(s, state) == Outcome(case.sold, case.winner, case.price)


@pytest.mark.parametrize(
    ("now", "closed", "expected"),
    [(999, False, "scheduled"), (1_000, False, "open"), (9_999, False, "open"),
     (10_000, False, "closed"), (50_000, False, "closed"), (5_000, True, "closed"),
     (500, True, "closed")],
)
def test_effective_status(now: int, closed: bool, expected: str) -> None:
    s = spec()
    assert effective_status(s, replace(RoundState.initial(s), closed=closed), now) == expected


def test_effective_status_follows_extension() -> None:
    s = spec(hard_close_ms=20_000)
    assert effective_status(s, RoundState(ends_at_ms=15_000), 12_000) == "open"


def test_minimum_next_bid() -> None:
    s = spec()
    assert minimum_next_bid(s, RoundState.initial(s)) == 100
    assert minimum_next_bid(s, RoundState(10_000, current_price=250, leader="a")) == 260


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(UnsupportedRoundKind, match="unknown"):
        spec(kind="candle")


def test_dispatch_refuses_kind_without_decider() -> None:
    s = spec()
    object.__setattr__(s, "kind", "candle")
    with pytest.raises(UnsupportedRoundKind):
        decide_bid(s, RoundState(10_000), bidder="a", amount=100, now_ms=2_000)
    with pytest.raises(UnsupportedRoundKind):
        round_outcome(s, RoundState(10_000))


@pytest.mark.parametrize(
    "overrides",
    [
        {"ends_at_ms": 1_000}, {"starting_price": 0}, {"increment": 0}, {"window_ms": -1},
        {"extension_ms": -1}, {"hard_close_ms": 9_999}, {"reserve": 0},
        {"starting_price": MAX_AMOUNT + 1}, {"increment": True}, {"starts_at_ms": 1.5},
        {"increment": MAX_AMOUNT + 1}, {"step": 5}, {"floor": 5}, {"interval_ms": 5},
        {"advance": 0}, {"kind": "dutch"}, {"kind": "dutch", "step": 1, "interval_ms": 1},
        {"kind": "dutch", "step": 1, "interval_ms": 1, "floor": 101},
        {"kind": "dutch", "step": 1, "interval_ms": 0, "floor": 50},
        {"kind": "dutch", "step": 0, "interval_ms": 1, "floor": 50},
        {"kind": "dutch", "step": 1, "interval_ms": 1, "floor": 50, "reserve": 60},
        {"kind": "dutch", "step": 1, "interval_ms": 1, "floor": 50, "advance": 2},
    ],
)
def test_invalid_specs_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        spec(**overrides)


# --- properties ---------------------------------------------------------------------------

BIDDERS = ("alice", "bob", "carol")


@st.composite
def specs(draw: st.DrawFn) -> RoundSpec:
    ends = draw(st.integers(1, 20_000))
    hard = draw(st.none() | st.integers(ends, ends + 20_000))
    return RoundSpec(
        kind="english", starts_at_ms=0, ends_at_ms=ends,
        starting_price=draw(st.integers(1, 1_000)), increment=draw(st.integers(1, 200)),
        window_ms=draw(st.integers(0, 10_000)), extension_ms=draw(st.integers(0, 10_000)),
        hard_close_ms=hard, reserve=draw(st.none() | st.integers(1, 3_000)),
    )


@settings(max_examples=300, deadline=None)
@given(s=specs(), data=st.data())
def test_bidding_invariants(s: RoundSpec, data: st.DataObject) -> None:
    state = RoundState.initial(s)
    now, accepted = -500, []
    for _ in range(data.draw(st.integers(1, 40))):
        now += data.draw(st.integers(0, 1_500))
        bidder = data.draw(st.sampled_from(BIDDERS))
        amount = max(0, minimum_next_bid(s, state) + data.draw(st.integers(-300, 600)))
        status = effective_status(s, state, now)
        decision = decide_bid(s, state, bidder=bidder, amount=amount, now_ms=now)
        assert decide_bid(s, state, bidder=bidder, amount=amount, now_ms=now) == decision
        if isinstance(decision, Rejected):
            assert decision.code in REJECT_CODES
            continue  # nothing to apply: a rejection carries no state
        new = decision.state
        assert status == "open"
        assert bidder != state.leader
        previous = state.current_price
        assert amount >= (s.starting_price if previous is None else previous + s.increment)
        assert new.ends_at_ms >= state.ends_at_ms
        assert s.hard_close_ms is None or new.ends_at_ms <= s.hard_close_ms
        assert decision.extended == (new.ends_at_ms != state.ends_at_ms)
        if decision.extended:
            assert now >= state.ends_at_ms - s.window_ms
            assert new.ends_at_ms <= now + s.extension_ms
        assert (new.seq, new.bid_count) == (state.seq + 1, state.bid_count + 1)
        assert (new.leader, new.current_price) == (bidder, amount)
        accepted.append((bidder, amount))
        state = new
    assert [a for _, a in accepted] == sorted({a for _, a in accepted})
    if accepted:
        assert (state.leader, state.current_price) == accepted[-1]
    _check_outcome(s, state, accepted)


def _check_outcome(s: RoundSpec, state: RoundState, accepted: list[tuple[str, int]]) -> None:
    outcome = round_outcome(s, state)
    meets = bool(accepted) and (s.reserve is None or accepted[-1][1] >= s.reserve)
    expected = Outcome(True, *accepted[-1]) if meets else Outcome(False)
    assert outcome == expected


@settings(max_examples=200, deadline=None)
@given(s=specs(), now=st.integers(-1_000, 50_000), amount=st.integers(-10, 5_000),
       bidder=st.sampled_from(BIDDERS), closed=st.booleans(), price=st.none() | st.integers(1, 4_000))
def test_rejected_bids_change_nothing(
    s: RoundSpec, now: int, amount: int, bidder: str, closed: bool, price: int | None
) -> None:
    state = RoundState(s.ends_at_ms, price, None if price is None else "bob", int(bool(price)),
                       7, closed)
    before = replace(state)
    decision = decide_bid(s, state, bidder=bidder, amount=amount, now_ms=now)
    assert state == before
    if isinstance(decision, Rejected):
        return
    assert effective_status(s, state, now) == "open"
    assert decision.state.ends_at_ms >= state.ends_at_ms
