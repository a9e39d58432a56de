"""What a round kind is made of (the Kind type) and the pieces several kinds share.

A kind is a frozen value of plain functions and flags, so kinds/<name>.py reads as a
declaration and a kind may reuse another's functions (dutch closes as english does).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from app.auctions.domain.model import (
    Decision,
    Outcome,
    RejectCode,
    RoundSpec,
    RoundState,
    StandingBid,
    standing,
)

_NAME = re.compile(r"[a-z][a-z0-9_]*")
# (spec, state, bidder, amount, max_amount, now_ms) -> the decision on one bid
Decider = Callable[[RoundSpec, RoundState, str, "int | None", "int | None", int], Decision]


@dataclass(frozen=True, slots=True)
class TrailBid:
    """One accepted bid of a round as the durable (SQL) trail holds it, in minor units and ms."""

    bidder: str
    amount: int
    seq: int
    placed_at_ms: int
    ends_at_ms: int
    paddle: str
    proxy_max: int | None = None


@dataclass(frozen=True, slots=True)
class Restored:
    """A round rebuilt from its trail: the spec to open it with (a dutch round taken ends when
    it was taken), its state and the leader's paddle (None when it has no open leader)."""

    spec: RoundSpec
    state: RoundState
    leader_paddle: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Round settings a kind refuses: a stable code and the sentence the API answers (422)."""

    code: str
    message: str


def _no_spec_check(spec: RoundSpec) -> None:
    """A kind without parameters of its own has nothing more to check."""


def _no_refusal(params: Mapping[str, int], starting_price: int, reserve: int | None) -> Refusal | None:
    return None


def _starting_price(spec: RoundSpec, state: RoundState, now_ms: int | None) -> int:
    return spec.starting_price


@dataclass(frozen=True, slots=True)
class Kind:
    """One round kind: how it decides bids and closes, what it is configured with, how a round
    is rebuilt from its trail. The registry (domain/registry.py) lists every kind.

    - sealed: bids stay hidden until the close (no public event, no price or leader).
    - soft_close: a bid near the end moves it (the spec's window and extension).
    - must_be_final: why a round of this kind can only be the last one (None: it may be
      non-final and advance its best bidders to the next round).
    - params: the RoundSpec fields only this kind takes (and needs).
    - amount_is_cap: a bid's amount is the most the bidder pays, not the bid placed.
    - starts_at_best_bid: a round of this kind after a non-final one starts at its best bid.
    - minimum_next_bid(spec, state, now_ms): the lowest amount the next bid may have.
    - check_spec(spec): refuse (ValueError) a spec with bad values of the kind's params.
    - refuse_params(params, starting_price, reserve): the kind's own 422 on round settings
      (params holds every given one of ``params``, in minor units and ms).
    - check_restore(spec, state): refuse (ValueError) a restore state it never produces.
    - restore(spec, trail, seq): the round rebuilt from its (non-empty) trail; seq is the
      auction's highest sequence so far.
    """

    name: str
    decide: Decider
    outcome: Callable[[RoundSpec, RoundState], Outcome]
    restore: Callable[[RoundSpec, list[TrailBid], int], Restored]
    check_restore: Callable[[RoundSpec, RoundState], None]
    sealed: bool = False
    soft_close: bool = False
    must_be_final: str | None = None
    params: tuple[str, ...] = ()
    amount_is_cap: bool = False
    starts_at_best_bid: bool = False
    minimum_next_bid: Callable[[RoundSpec, RoundState, int | None], int] = _starting_price
    check_spec: Callable[[RoundSpec], None] = _no_spec_check
    refuse_params: Callable[[Mapping[str, int], int, int | None], Refusal | None] = _no_refusal

    def __post_init__(self) -> None:
        # the name is also a Lua identifier, a file name (lua/kinds/<name>.lua) and an API value
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"a kind's name must match {_NAME.pattern}, got {self.name!r}")


def window_check(spec: RoundSpec, state: RoundState, now_ms: int) -> RejectCode | None:
    """Closed, not open yet, or past its end: the checks every kind makes first."""
    if state.closed:
        return "auction_closed"
    if now_ms < spec.starts_at_ms:
        return "auction_not_open"
    if now_ms >= state.ends_at_ms:
        return "auction_closed"
    return None


def no_proxy(kind: str, max_amount: int | None) -> None:
    """Refuse a proxy bid (max_amount) in a kind that has none: a caller's bug."""
    if max_amount is not None:
        raise ValueError(f"proxy bidding (max_amount) is for english rounds, not {kind}")


def no_open_leader(spec: RoundSpec, state: RoundState) -> None:
    """Refuse a restore state with a leader, price or proxy for a round that has none open."""
    if state.leader is not None or state.current_price is not None or state.proxy_max:
        raise ValueError(f"a {spec.kind} round has no open leader, price or proxy to restore")


def standing_of(trail: Iterable[TrailBid]) -> tuple[StandingBid, ...]:
    """Every bidder's standing bid in a round's trail."""
    return standing(StandingBid(b.bidder, b.amount, b.seq) for b in trail)
