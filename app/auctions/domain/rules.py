"""Pure bidding rules: round kinds, bid decisions, soft close, outcomes (no I/O, no clock).

Money is integer minor units (cents); time is integer epoch milliseconds passed in as
``now_ms``. The Lua scripts in ``lua/`` implement the same decisions and are tested on the
same table of cases (tests/auctions/domain/cases.py). The model lives in ``model``, the kinds in
``kinds/`` (listed by ``registry``); this module is the public face and dispatches through
the registry on ``spec.kind``:

- english: ascending, by the increment, soft close; proxy bidding (a secret max_amount the
  engine bids from, eBay-style, see ``kinds.english.decide``).
- sealed_first_price / sealed_second_price: one replaceable sealed bid per bidder; the
  highest standing bid wins (ties: the earlier standing bid, i.e. the time of the latest
  replacement); first price pays it, second price pays the runner-up's bid (the starting
  price when alone), never below the reserve.
- dutch: the clock price falls by step every interval to floor; the first bid takes the
  lot at the price of its instant and closes the round.
- several rounds: ``advance`` picks the best N bidders of a closed round.

Decisions worth knowing (the engine implements the same):
- Sealed secrecy: a sealed bid writes no public event at all (not even an amount-free
  one: the count would leak); its trail entry goes to a private stream. Its reply carries
  the bidder's own bid only; rejections carry seq 0; state.current_price/leader stay None
  and Snapshot.public() hides count and sequence until the close. No soft close.
- Sealed ties: the earlier *standing* bid wins, i.e. a replacement takes the time (seq) of
  the replacement, so nobody can reserve an early slot with a placeholder and raise later.
- Dutch amount: optional. None takes the lot at the clock price; a given amount is the
  most the bidder pays (bid_too_low while the clock is above it). The price only falls, so
  a client sending the price it shows never pays more than it showed.
- Proxy: the maximum never appears in a bid, event, reply or Snapshot.public(); a losing
  maximum becomes visible only as that bidder's last bid (as on eBay). A proxy does not
  jump to the secret reserve: a round whose price ends below it is unsold.
- The leader (plain or proxy) cannot raise himself or his maximum: already_leading.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.auctions.domain.kinds.base import Kind, Refusal, Restored, TrailBid
from app.auctions.domain.kinds.dutch import price as dutch_price
from app.auctions.domain.model import (
    MAX_AMOUNT,
    REJECT_CODES,
    Accepted,
    Advance,
    Decision,
    Outcome,
    Placed,
    RejectCode,
    Rejected,
    RoundSpec,
    RoundState,
    StandingBid,
    Status,
    effective_status,
    rank,
    soft_close_ends_at,
    standing,
    with_bid,
)
from app.auctions.domain.registry import (
    KINDS,
    KNOWN_KINDS,
    SEALED_KINDS,
    RoundKind,
    UnsupportedRoundKind,
    is_sealed_kind,
    kind_of,
)

__all__ = [
    "KINDS", "KNOWN_KINDS", "MAX_AMOUNT", "REJECT_CODES", "SEALED_KINDS", "Accepted", "Advance",
    "Decision", "Kind", "Outcome", "Placed", "Refusal", "RejectCode", "Rejected", "Restored",
    "RoundKind", "RoundSpec", "RoundState", "StandingBid", "Status", "TrailBid",
    "UnsupportedRoundKind", "advance", "decide_bid", "dutch_price", "effective_status",
    "is_sealed", "is_sealed_kind", "kind_of", "minimum_next_bid", "rank", "round_outcome",
    "soft_close_ends_at", "standing", "with_bid",
]


def is_sealed(spec: RoundSpec) -> bool:
    """True for the kinds whose bids stay hidden until the round closes."""
    return is_sealed_kind(spec.kind)


def minimum_next_bid(spec: RoundSpec, state: RoundState, *, now_ms: int | None = None) -> int:
    """The lowest amount the next bid may have: english, current + increment (the starting
    price first); sealed, the starting price; dutch, the clock price at now_ms (required)."""
    return kind_of(spec.kind).minimum_next_bid(spec, state, now_ms)


def decide_bid(
    spec: RoundSpec,
    state: RoundState,
    *,
    bidder: str,
    amount: int | None = None,
    now_ms: int,
    max_amount: int | None = None,
) -> Decision:
    """Accept or reject one bid by a qualified bidder at now_ms, as the round's kind decides.

    amount is required except in dutch rounds (optional cap) and for english proxy bids,
    which give max_amount instead. Misuse (both, neither, a proxy outside english) raises
    ValueError: it is a caller's bug, not a bid the rules refuse.
    """
    return kind_of(spec.kind).decide(spec, state, bidder, amount, max_amount, now_ms)


def round_outcome(spec: RoundSpec, state: RoundState) -> Outcome:
    """The winner and price of the round as it stands, or unsold (reserve, no bids)."""
    return kind_of(spec.kind).outcome(spec, state)


def advance(bids: Iterable[StandingBid], n: int, *, leader: str | None = None) -> Advance:
    """The best n bidders of a closed round and its best bid.

    bids may be the round's whole trail: each bidder counts with his standing (latest) bid.
    They rank by amount, then the earlier bid; ``leader`` (an english round's leader, who
    may hold the top amount jointly after a proxy tie) ranks first.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    ranked = rank(standing(bids))
    if leader is not None:
        ranked.sort(key=lambda b: b.bidder != leader)  # stable: only moves the leader up
    top = ranked[:n]
    return Advance(tuple(b.bidder for b in top), top[0].amount if top else None)
