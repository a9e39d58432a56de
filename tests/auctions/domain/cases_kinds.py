"""The case table for proxy bidding, sealed and dutch rounds (see cases.py for the format),
and ALL_CASES / ALL_OUTCOME_CASES: every kind, run through rules.py and through Lua."""

from __future__ import annotations

from app.auctions.domain.rules import RoundSpec

from .cases import BIG, CASES, OUTCOME_CASES, SOFT, Bid, Case, OutcomeCase

# --- english proxy bidding --------------------------------------------------------------------

A1 = (Bid("alice", 10_000),)
PA = (Bid("alice", None, max_amount=50_000),)  # alice leads at 10_000 with a 50_000 proxy
PAB_TIE = (*PA, Bid("bob", None, max_amount=50_000))  # alice holds at 50_000, proxy spent


def proxy(name: str, bidder: str, max_amount: int, expect: str = "accepted", **kw) -> Case:
    return Case(name, Bid(bidder, None, max_amount=max_amount), expect, **kw)


PROXY_CASES: tuple[Case, ...] = (
    proxy("proxy_first_bid_takes_starting_price", "alice", 50_000, expect_amount=10_000),
    proxy("proxy_max_equal_to_starting_price", "alice", 10_000, expect_amount=10_000),
    proxy("proxy_max_below_starting_price", "alice", 9_999, "bid_too_low"),
    proxy("proxy_against_plain_leader_bids_one_increment", "bob", 50_000, prior=A1,
          expect_amount=10_500),
    proxy("proxy_max_below_minimum_next", "bob", 10_499, "bid_too_low", prior=A1),
    Case("plain_bid_answered_by_proxy", Bid("bob", 20_000), "accepted", prior=PA,
         expect_placed=(("bob", 20_000), ("alice", 20_500)), expect_outbid=True),
    Case("plain_bid_ties_proxy_earlier_wins", Bid("bob", 50_000), "accepted", prior=PA,
         expect_placed=(("bob", 50_000), ("alice", 50_000)), expect_outbid=True),
    Case("plain_bid_answered_capped_at_max", Bid("bob", 49_800), "accepted", prior=PA,
         expect_placed=(("bob", 49_800), ("alice", 50_000)), expect_outbid=True),
    Case("plain_bid_beats_proxy", Bid("bob", 60_000), "accepted", prior=PA,
         expect_placed=(("alice", 50_000), ("bob", 60_000))),
    Case("plain_bid_beats_proxy_by_one", Bid("bob", 50_001), "accepted", prior=PA,
         expect_placed=(("alice", 50_000), ("bob", 50_001))),
    Case("plain_bid_too_low_against_proxy", Bid("bob", 10_499), "bid_too_low", prior=PA),
    proxy("proxy_beats_proxy_by_one_increment", "bob", 80_000, prior=PA,
          expect_placed=(("alice", 50_000), ("bob", 50_500))),
    proxy("proxy_beats_proxy_capped_at_own_max", "bob", 50_200, prior=PA,
          expect_placed=(("alice", 50_000), ("bob", 50_200))),
    proxy("proxy_loses_to_higher_proxy", "bob", 30_000, prior=PA,
          expect_placed=(("bob", 30_000), ("alice", 30_500)), expect_outbid=True),
    proxy("proxy_loses_answer_capped_at_max", "bob", 49_700, prior=PA,
          expect_placed=(("bob", 49_700), ("alice", 50_000)), expect_outbid=True),
    proxy("proxy_tie_goes_to_earlier_proxy", "bob", 50_000, prior=PA,
          expect_placed=(("bob", 50_000), ("alice", 50_000)), expect_outbid=True),
    proxy("leader_cannot_set_proxy", "alice", 90_000, "already_leading", prior=PA),
    Case("leader_with_proxy_cannot_bid", Bid("alice", 90_000), "already_leading", prior=PA),
    proxy("third_proxy_meets_remaining_max", "carol", 40_000,
          prior=(*PA, Bid("bob", None, max_amount=30_000)),
          expect_placed=(("carol", 40_000), ("alice", 40_500)), expect_outbid=True),
    proxy("spent_proxy_gives_way", "carol", 50_500, prior=PAB_TIE, expect_amount=50_500),
    proxy("spent_proxy_minimum_next", "carol", 50_499, "bid_too_low", prior=PAB_TIE),
    proxy("proxy_resolution_extends_once", "bob", 80_000, **SOFT,
          prior=(Bid("alice", None, at=-10_000, max_amount=50_000),),
          expect_placed=(("alice", 50_000), ("bob", 50_500)), expect_ends=30_000,
          expect_extended=True),
    proxy("proxy_in_closed_round", "bob", 80_000, "auction_closed", ends=-1_000),
    proxy("proxy_before_start", "bob", 80_000, "auction_not_open", starts=5_000),
    proxy("proxy_not_qualified", "mallory", 80_000, "not_qualified"),
    proxy("proxy_largest_amounts_tie", "bob", BIG, starting_price=BIG - 5_000, increment=1_000,
          prior=(Bid("alice", None, max_amount=BIG),),
          expect_placed=(("bob", BIG), ("alice", BIG)), expect_outbid=True),
)

# --- sealed --------------------------------------------------------------------------------

FP, SP = {"kind": "sealed_first_price"}, {"kind": "sealed_second_price"}

SEALED_CASES: tuple[Case, ...] = (
    Case("sealed_bid_at_starting_price", Bid("alice", 10_000), "accepted", **FP),
    Case("sealed_bid_any_amount", Bid("alice", 12_345), "accepted", **FP),
    Case("sealed_bid_below_starting_price", Bid("alice", 9_999), "bid_too_low", **FP),
    Case("sealed_replacement_lower", Bid("alice", 15_000), "accepted", **FP,
         prior=(Bid("alice", 20_000),)),
    Case("sealed_replacement_higher", Bid("alice", 25_000), "accepted", **FP,
         prior=(Bid("alice", 20_000),)),
    Case("sealed_replacement_below_start", Bid("alice", 9_000), "bid_too_low", **FP,
         prior=(Bid("alice", 20_000),)),
    Case("sealed_equal_to_another", Bid("alice", 20_000), "accepted", **FP,
         prior=(Bid("bob", 20_000),)),
    Case("sealed_below_another", Bid("alice", 12_000), "accepted", **FP,
         prior=(Bid("bob", 30_000),)),
    Case("sealed_no_increment_rule", Bid("alice", 10_001), "accepted", **FP,
         prior=(Bid("bob", 10_000),)),
    Case("sealed_not_qualified", Bid("mallory", 50_000), "not_qualified", **FP),
    Case("sealed_before_start", Bid("alice", 10_000), "auction_not_open", starts=5_000, **FP),
    Case("sealed_not_open_before_too_low", Bid("alice", 1), "auction_not_open", starts=5_000,
         **FP),
    Case("sealed_after_end", Bid("alice", 10_000), "auction_closed", ends=-1_000, **FP),
    Case("sealed_at_end_exactly", Bid("alice", 10_000), "auction_closed", ends=0, **FP),
    Case("sealed_one_ms_before_end", Bid("alice", 10_000), "accepted", ends=1, exact=True, **FP),
    Case("sealed_closed_flag", Bid("alice", 50_000), "auction_closed", closed=True, **FP,
         prior=(Bid("bob", 20_000),)),
    Case("sealed_never_extends", Bid("alice", 10_000), "accepted", **SOFT, **FP),
    Case("sealed_largest_amount", Bid("alice", BIG), "accepted", starting_price=BIG - 5_000,
         **FP),
    Case("vickrey_bid_at_starting_price", Bid("alice", 10_000), "accepted", **SP),
    Case("vickrey_bid_below_starting_price", Bid("alice", 9_999), "bid_too_low", **SP),
    Case("vickrey_replacement_lower", Bid("alice", 11_000), "accepted", **SP,
         prior=(Bid("alice", 30_000), Bid("bob", 20_000))),
    Case("vickrey_after_end", Bid("alice", 10_000), "auction_closed", ends=-1_000, **SP),
    Case("vickrey_closed_flag", Bid("alice", 10_000), "auction_closed", closed=True, **SP),
)

# --- dutch ---------------------------------------------------------------------------------

# 100_000 falling by 1_000 every 10 s to 50_000, started 25 s ago: 98_000 now (and for 5 s).
DUTCH = {"kind": "dutch", "starting_price": 100_000, "step": 1_000, "interval": 10_000,
         "floor": 50_000, "starts": -25_000}
TAKEN = (Bid("alice", None),)

DUTCH_CASES: tuple[Case, ...] = (
    Case("dutch_takes_at_clock_price", Bid("alice", None), "accepted", **DUTCH,
         expect_amount=98_000, expect_ends=0),
    Case("dutch_amount_above_price_pays_price", Bid("alice", 99_000), "accepted", **DUTCH,
         expect_amount=98_000, expect_ends=0),
    Case("dutch_amount_equal_to_price", Bid("alice", 98_000), "accepted", **DUTCH,
         expect_amount=98_000, expect_ends=0),
    Case("dutch_amount_below_price", Bid("alice", 97_999), "bid_too_low", **DUTCH),
    Case("dutch_at_floor", Bid("alice", None), "accepted", **{**DUTCH, "starts": -1_000_000},
         expect_amount=50_000, expect_ends=0),
    Case("dutch_floor_between_steps", Bid("alice", None), "accepted",
         **{**DUTCH, "step": 30_000}, expect_amount=50_000, expect_ends=0),
    Case("dutch_at_start_instant", Bid("alice", None), "accepted", **{**DUTCH, "starts": 0},
         expect_amount=100_000, expect_ends=0),
    Case("dutch_right_after_a_drop", Bid("alice", None), "accepted",
         **{**DUTCH, "starts": -20_000}, expect_amount=98_000, expect_ends=0),
    Case("dutch_1ms_before_a_drop", Bid("alice", None), "accepted",
         **{**DUTCH, "starts": -19_999}, expect_amount=99_000, expect_ends=0, exact=True),
    Case("dutch_before_start", Bid("alice", None), "auction_not_open", **{**DUTCH, "starts": 5_000}),
    Case("dutch_not_open_before_too_low", Bid("alice", 1), "auction_not_open",
         **{**DUTCH, "starts": 5_000}),
    Case("dutch_after_end", Bid("alice", None), "auction_closed", ends=-1_000, **DUTCH),
    Case("dutch_second_bid_after_sale", Bid("bob", None), "auction_closed", prior=TAKEN, **DUTCH),
    Case("dutch_buyer_bids_again", Bid("alice", None), "auction_closed", prior=TAKEN, **DUTCH),
    Case("dutch_closed_before_too_low", Bid("bob", 1), "auction_closed", prior=TAKEN, **DUTCH),
    Case("dutch_not_qualified", Bid("mallory", None), "not_qualified", **DUTCH),
)

ALL_CASES: tuple[Case, ...] = CASES + PROXY_CASES + SEALED_CASES + DUTCH_CASES

# --- outcomes ------------------------------------------------------------------------------


def early(bidder: str, amount: int | None, at: int, max_amount: int | None = None) -> Bid:
    return Bid(bidder, amount, at=at, max_amount=max_amount)


A20, B30, C25 = early("alice", 20_000, -9_000), early("bob", 30_000, -8_000), early("carol", 25_000, -7_000)
TIE = (early("alice", 20_000, -5_000), early("bob", 20_000, -4_000))
F, S = "sealed_first_price", "sealed_second_price"

KIND_OUTCOME_CASES: tuple[OutcomeCase, ...] = (
    OutcomeCase("sealed_no_bids_unsold", (), None, False, kind=F),
    OutcomeCase("sealed_alone_pays_own_bid", (A20,), None, True, "alice", 20_000, kind=F),
    OutcomeCase("sealed_highest_wins", (A20, B30, C25), None, True, "bob", 30_000, kind=F),
    OutcomeCase("sealed_tie_to_earlier", TIE, None, True, "alice", 20_000, kind=F),
    OutcomeCase("sealed_tie_counts_latest_replacement",
                (*TIE, early("alice", 20_000, -3_000)), None, True, "bob", 20_000, kind=F),
    OutcomeCase("sealed_lowered_replacement_loses",
                (early("alice", 30_000, -5_000), early("bob", 20_000, -4_000),
                 early("alice", 15_000, -3_000)), None, True, "bob", 20_000, kind=F),
    OutcomeCase("sealed_reserve_missed", (A20,), 20_001, False, kind=F),
    OutcomeCase("sealed_reserve_met_exactly", (A20,), 20_000, True, "alice", 20_000, kind=F),
    OutcomeCase("vickrey_no_bids_unsold", (), None, False, kind=S),
    OutcomeCase("vickrey_alone_pays_starting_price", (A20,), None, True, "alice", 10_000, kind=S),
    OutcomeCase("vickrey_alone_pays_reserve", (A20,), 15_000, True, "alice", 15_000, kind=S),
    OutcomeCase("vickrey_pays_second_highest", (A20, B30, C25), None, True, "bob", 25_000, kind=S),
    OutcomeCase("vickrey_second_below_reserve_pays_reserve",
                (B30, early("alice", 12_000, -6_000)), 25_000, True, "bob", 25_000, kind=S),
    OutcomeCase("vickrey_highest_below_reserve_unsold", (A20, B30), 30_001, False, kind=S),
    OutcomeCase("vickrey_reserve_met_exactly", (B30,), 30_000, True, "bob", 30_000, kind=S),
    OutcomeCase("vickrey_tie_pays_the_tied_amount", TIE, None, True, "alice", 20_000, kind=S),
    OutcomeCase("vickrey_replacement_counts_latest",
                (early("alice", 30_000, -5_000), early("bob", 20_000, -4_000),
                 early("alice", 21_000, -3_000)), None, True, "alice", 20_000, kind=S),
    OutcomeCase("proxy_winner_pays_increment_over_loser",
                (early("alice", None, -9_000, 50_000), early("bob", None, -8_000, 30_000)),
                None, True, "alice", 30_500),
    # The reserve is secret, so a proxy never jumps to it: a max above the reserve does not sell.
    OutcomeCase("proxy_max_above_reserve_price_below_unsold",
                (early("alice", None, -9_000, 50_000), early("bob", None, -8_000, 30_000)),
                40_000, False),
    OutcomeCase("dutch_no_bid_unsold", (), None, False, kind="dutch"),
    # 100_000 - 3 drops (the bid comes 30 s after the start of the outcome round)
    OutcomeCase("dutch_sold_at_clock_price", (early("alice", None, -30_000),), None, True,
                "alice", 97_000, kind="dutch"),
)

ALL_OUTCOME_CASES: tuple[OutcomeCase, ...] = OUTCOME_CASES + KIND_OUTCOME_CASES


def expected_placed(case: Case) -> list[tuple[str, int]]:
    """(bidder, amount) of every bid an accepted case places."""
    if case.expect_placed is not None:
        return list(case.expect_placed)
    amount = case.bid.amount if case.expect_amount is None else case.expect_amount
    return [(case.bid.bidder, amount)]  # type: ignore[list-item]


def outcome_spec(case: OutcomeCase, origin: int) -> RoundSpec:
    """A round that ran from 60 s to 1 ms before origin, of the case's kind."""
    dutch = {"step": 1_000, "interval_ms": 10_000, "floor": 50_000}
    return RoundSpec(
        case.kind, origin - 60_000, origin - 1, 100_000 if case.kind == "dutch" else 10_000, 500,
        reserve=case.reserve, **(dutch if case.kind == "dutch" else {}),
    )
