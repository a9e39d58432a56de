"""The shared table of bidding cases, run through rules.py and through the Lua scripts.

Times are offsets in ms from the moment of the decided bid ("now" = 0). The round is set up
with the prior bids already applied (each at its own offset), then one bid is decided at now.
This module holds the english table and the machinery; cases_kinds.py adds proxy bidding,
sealed and dutch rounds and gathers everything in ALL_CASES / ALL_OUTCOME_CASES.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.auctions.domain.rules import (
    Accepted,
    Decision,
    Rejected,
    RoundSpec,
    RoundState,
    decide_bid,
)

QUALIFIED = {"alice": "101", "bob": "202", "carol": "303", "dave": "404"}
BIG = 100_000_000_000_000  # 1,000,000,000,000.00, the largest amount the product allows


@dataclass(frozen=True)
class Bid:
    bidder: str
    amount: int | None
    at: int = -1_000
    max_amount: int | None = None  # a proxy bid (english)


@dataclass(frozen=True)
class Case:
    name: str
    bid: Bid
    expect: str  # "accepted" or a reject code
    prior: tuple[Bid, ...] = ()
    kind: str = "english"
    starts: int = -60_000
    ends: int = 60_000
    starting_price: int = 10_000
    increment: int = 500
    window: int = 0
    extension: int = 0
    hard_close: int | None = None
    reserve: int | None = None
    closed: bool = False  # the round's closed flag is set before the bid
    expect_ends: int | None = None  # ends_at offset after the bid; None = unchanged
    expect_extended: bool = False
    # True when a boundary lies 1 ms after now: only an exact clock decides it, so the Lua
    # run checks agreement with the rules at the script's own clock, not this expectation.
    exact: bool = False
    step: int | None = None  # dutch clock
    interval: int | None = None
    floor: int | None = None
    expect_amount: int | None = None  # the caller's bid amount when not bid.amount
    # (bidder, amount) of every bid placed, when not just the caller's own
    expect_placed: tuple[tuple[str, int], ...] | None = None
    expect_outbid: bool = False

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class OutcomeCase:
    name: str
    prior: tuple[Bid, ...]
    reserve: int | None
    sold: bool
    winner: str | None = None
    price: int | None = None
    kind: str = "english"

    def __str__(self) -> str:
        return self.name


SOFT = {"window": 10_000, "extension": 30_000, "ends": 5_000}
A1 = (Bid("alice", 10_000),)
AB = (Bid("alice", 10_000), Bid("bob", 10_500))

CASES: tuple[Case, ...] = (
    # first bid and increments
    Case("first_bid_at_starting_price", Bid("alice", 10_000), "accepted"),
    Case("first_bid_above_starting_price", Bid("alice", 12_345), "accepted"),
    Case("first_bid_below_starting_price", Bid("alice", 9_999), "bid_too_low"),
    Case("next_bid_exactly_one_increment", Bid("bob", 10_500), "accepted", prior=A1),
    Case("next_bid_one_below_increment", Bid("bob", 10_499), "bid_too_low", prior=A1),
    Case("next_bid_equal_to_current", Bid("bob", 10_000), "bid_too_low", prior=A1),
    Case("jump_bid", Bid("bob", 5_000_000), "accepted", prior=A1),
    Case("increment_of_one", Bid("bob", 10_001), "accepted", prior=A1, increment=1),
    Case("outbid_bidder_bids_again", Bid("alice", 11_000), "accepted", prior=AB),
    Case("third_bidder_after_many", Bid("carol", 12_000), "accepted",
         prior=(*AB, Bid("alice", 11_000), Bid("bob", 11_500))),
    Case("largest_amount", Bid("bob", BIG), "accepted",
         prior=(Bid("alice", BIG - 1_000),), starting_price=BIG - 5_000, increment=1_000),
    Case("largest_amount_too_low", Bid("bob", BIG - 1), "bid_too_low",
         prior=(Bid("alice", BIG - 1_000),), starting_price=BIG - 5_000, increment=1_000),
    # the leader
    Case("leader_raises_own_bid", Bid("alice", 20_000), "already_leading", prior=A1),
    Case("leader_check_before_too_low", Bid("alice", 1), "already_leading", prior=A1),
    # qualification comes first
    Case("not_qualified", Bid("mallory", 50_000), "not_qualified"),
    Case("not_qualified_before_closed", Bid("mallory", 50_000), "not_qualified", ends=-1_000),
    Case("not_qualified_before_not_open", Bid("mallory", 1), "not_qualified", starts=5_000),
    # opening and closing times
    Case("before_start", Bid("alice", 10_000), "auction_not_open", starts=5_000),
    Case("not_open_before_too_low", Bid("alice", 1), "auction_not_open", starts=5_000),
    Case("at_start_exactly", Bid("alice", 10_000), "accepted", starts=0),
    Case("one_ms_before_start", Bid("alice", 10_000), "auction_not_open", starts=1, exact=True),
    Case("after_end", Bid("alice", 10_000), "auction_closed", ends=-1_000),
    Case("at_end_exactly", Bid("alice", 10_000), "auction_closed", ends=0),
    Case("one_ms_before_end", Bid("alice", 10_000), "accepted", ends=1, exact=True),
    Case("closed_before_leader_check", Bid("alice", 20_000), "auction_closed",
         prior=(Bid("alice", 10_000, at=-5_000),), ends=-1),
    Case("closed_before_too_low", Bid("bob", 1), "auction_closed", prior=A1, ends=-1),
    Case("closed_flag", Bid("bob", 20_000), "auction_closed", prior=A1, closed=True),
    Case("closed_flag_without_bids", Bid("bob", 20_000), "auction_closed", closed=True),
    # soft close
    Case("bid_in_window_extends", Bid("alice", 10_000), "accepted", **SOFT,
         expect_ends=30_000, expect_extended=True),
    Case("bid_before_window_does_not_extend", Bid("alice", 10_000), "accepted",
         window=10_000, extension=30_000, ends=20_000),
    Case("bid_at_window_start_extends", Bid("alice", 10_000), "accepted",
         window=10_000, extension=30_000, ends=10_000, expect_ends=30_000, expect_extended=True),
    Case("bid_1ms_before_window", Bid("alice", 10_000), "accepted",
         window=10_000, extension=30_000, ends=10_001, exact=True),
    Case("short_extension_does_not_move", Bid("alice", 10_000), "accepted",
         window=10_000, extension=2_000, ends=5_000),
    Case("extension_capped_at_hard_close", Bid("alice", 10_000), "accepted", **SOFT,
         hard_close=12_000, expect_ends=12_000, expect_extended=True),
    Case("hard_close_equal_to_ends", Bid("alice", 10_000), "accepted", **SOFT,
         hard_close=5_000),
    Case("hard_close_far_away", Bid("alice", 10_000), "accepted", **SOFT,
         hard_close=100_000, expect_ends=30_000, expect_extended=True),
    Case("rejected_in_window_does_not_extend", Bid("bob", 10_100), "bid_too_low", **SOFT,
         prior=(Bid("alice", 10_000, at=-10_000),)),
    Case("leader_in_window_does_not_extend", Bid("alice", 90_000), "already_leading",
         **SOFT, prior=(Bid("alice", 10_000, at=-10_000),)),
    Case("second_extension", Bid("bob", 10_500), "accepted", window=30_000, extension=30_000,
         ends=5_000, prior=(Bid("alice", 10_000, at=-3_000),), expect_ends=30_000,
         expect_extended=True),
    Case("bid_after_original_end_thanks_to_extension", Bid("bob", 10_500), "accepted",
         window=30_000, extension=30_000, ends=-2_000, prior=(Bid("alice", 10_000, at=-3_000),),
         expect_ends=30_000, expect_extended=True),
    Case("at_hard_close_no_more_extension", Bid("bob", 10_500), "accepted", **SOFT,
         hard_close=8_000, prior=(Bid("alice", 10_000, at=-4_000),)),
    Case("past_hard_close_closed", Bid("bob", 10_500), "auction_closed",
         window=10_000, extension=30_000, ends=-10_000, hard_close=-1,
         prior=(Bid("alice", 10_000, at=-15_000),)),
    Case("window_zero_never_extends", Bid("alice", 10_000), "accepted",
         window=0, extension=30_000, ends=5_000),
)

OUTCOME_CASES: tuple[OutcomeCase, ...] = (
    OutcomeCase("no_bids_unsold", (), None, sold=False),
    OutcomeCase("no_bids_with_reserve_unsold", (), 10_000, sold=False),
    OutcomeCase("no_reserve_sold", AB, None, True, "bob", 10_500),
    OutcomeCase("reserve_met_exactly", AB, 10_500, True, "bob", 10_500),
    OutcomeCase("reserve_missed_by_one", AB, 10_501, sold=False),
    OutcomeCase("reserve_below_start", A1, 1, True, "alice", 10_000),
    OutcomeCase("reserve_met_by_last_bid_only", (*AB, Bid("carol", 50_000)), 40_000,
                True, "carol", 50_000),
)


def spec_for(case: Case, origin: int) -> RoundSpec:
    """The case's round with absolute times (origin = the time of the decided bid)."""
    hard = None if case.hard_close is None else origin + case.hard_close
    return RoundSpec(
        kind=case.kind, starts_at_ms=origin + case.starts, ends_at_ms=origin + case.ends,
        starting_price=case.starting_price, increment=case.increment, window_ms=case.window,
        extension_ms=case.extension, hard_close_ms=hard, reserve=case.reserve,
        step=case.step, interval_ms=case.interval, floor=case.floor,
    )


def apply_prior(spec: RoundSpec, prior: tuple[Bid, ...], origin: int) -> RoundState:
    """The state after the prior bids (each must be accepted, or the table is wrong)."""
    state = RoundState.initial(spec)
    for bid in prior:
        decision = decide_bid(spec, state, bidder=bid.bidder, amount=bid.amount,
                              max_amount=bid.max_amount, now_ms=origin + bid.at)
        assert isinstance(decision, Accepted), f"prior bid {bid} was refused: {decision}"
        state = decision.state
    return state


def prior_state(case: Case, spec: RoundSpec, origin: int) -> RoundState:
    """The state the case's bid is decided against."""
    state = apply_prior(spec, case.prior, origin)
    return replace(state, closed=True) if case.closed else state


def decide(
    spec: RoundSpec, state: RoundState, bidder: str, amount: int | None, now: int,
    max_amount: int | None = None,
) -> Decision:
    """The rules' answer, with the qualification check the scripts do first."""
    if bidder not in QUALIFIED:
        return Rejected("not_qualified")
    return decide_bid(spec, state, bidder=bidder, amount=amount, now_ms=now,
                      max_amount=max_amount)
