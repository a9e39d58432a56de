"""The round model every kind shares: spec, state, decisions, outcomes and small pure helpers.

Money is integer minor units (cents); time is integer epoch milliseconds passed in as
``now_ms``. Import from ``app.auctions.domain.rules``, which re-exports all of this and dispatches
on the round kind; the kinds themselves live in ``kinds/``, listed by ``registry``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, get_args

Status = Literal["scheduled", "open", "closed"]
RejectCode = Literal[
    "idempotency_key_reused",
    "not_qualified",
    "auction_not_open",
    "auction_closed",
    "already_leading",
    "bid_too_low",
    "session_paused",  # the lot's session is paused (the engine refuses; no kind decides it)
]

REJECT_CODES: Final[frozenset[str]] = frozenset(get_args(RejectCode))
MAX_AMOUNT: Final = 100_000_000_000_000  # 1,000,000,000,000.00 in minor units


def require_int(name: str, value: object, *, minimum: int, maximum: int | None = None) -> None:
    """Refuse anything but an int in minimum..maximum (bools included)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum or (
        maximum is not None and value > maximum
    ):
        bound = f"in {minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")


@dataclass(frozen=True, slots=True)
class RoundSpec:
    """What an admin configured for one round; never changes once the round is open.

    A kind's parameters (``Kind.params``: dutch needs ``step``, ``interval_ms`` and ``floor``)
    are None for every other kind. ``advance`` (non-final rounds) is how many of the best
    bidders go on to the next round. Soft close (window/extension) applies to the kinds with
    ``Kind.soft_close`` (english) only: a sealed extension would reveal that someone bid.
    """

    kind: str
    starts_at_ms: int
    ends_at_ms: int
    starting_price: int
    increment: int
    window_ms: int = 0
    extension_ms: int = 0
    hard_close_ms: int | None = None
    reserve: int | None = None
    step: int | None = None
    interval_ms: int | None = None
    floor: int | None = None
    advance: int | None = None

    def __post_init__(self) -> None:
        # The kinds build on this module, so their registry is imported when first needed.
        from app.auctions.domain.registry import check_spec, kind_of

        kind = kind_of(self.kind)
        for name in ("starts_at_ms", "window_ms", "extension_ms"):
            require_int(name, getattr(self, name), minimum=0)
        require_int("ends_at_ms", self.ends_at_ms, minimum=self.starts_at_ms + 1)
        require_int("starting_price", self.starting_price, minimum=1, maximum=MAX_AMOUNT)
        require_int("increment", self.increment, minimum=1, maximum=MAX_AMOUNT)
        if self.hard_close_ms is not None:
            require_int("hard_close_ms", self.hard_close_ms, minimum=self.ends_at_ms)
        if self.reserve is not None:
            require_int("reserve", self.reserve, minimum=1, maximum=MAX_AMOUNT)
        check_spec(self, kind)


@dataclass(frozen=True, slots=True)
class StandingBid:
    """A bidder's bid that stands in this round: his latest accepted one (for sealed rounds
    the latest replacement; in english rounds also his highest)."""

    bidder: str
    amount: int
    seq: int


@dataclass(frozen=True, slots=True)
class RoundState:
    """The live state of a round; only accepted bids and the close change it.

    current_price/leader: english, the standing high bid; dutch, the taking bid; sealed,
    always None (the best sealed bid is only worked out at close). ``bids`` holds every
    bidder's standing bid, sorted by bidder. ``proxy_max`` is the english leader's secret
    proxy maximum (None when he has none left above the current price).
    """

    ends_at_ms: int
    current_price: int | None = None
    leader: str | None = None
    bid_count: int = 0
    seq: int = 0
    closed: bool = False
    bids: tuple[StandingBid, ...] = ()
    proxy_max: int | None = None

    @classmethod
    def initial(cls, spec: RoundSpec, *, seq: int = 0) -> RoundState:
        """The state of a freshly opened round (seq carries over between rounds)."""
        return cls(ends_at_ms=spec.ends_at_ms, seq=seq)


@dataclass(frozen=True, slots=True)
class Placed:
    """One bid a decision placed: the caller's own, or one a proxy placed automatically."""

    bidder: str
    amount: int
    seq: int
    ends_at_ms: int
    extended: bool
    by_proxy: bool = False


@dataclass(frozen=True, slots=True)
class Accepted:
    """An accepted request, with the state it leads to.

    amount/seq describe the caller's own bid; ``placed`` lists every bid placed, in seq
    order (proxy resolution may place one for the leader too); ``outbid`` is True when a
    proxy immediately answered the caller's bid.
    """

    state: RoundState
    amount: int
    extended: bool
    ends_at_ms: int
    seq: int
    ok: Literal[True] = True
    placed: tuple[Placed, ...] = ()
    outbid: bool = False


@dataclass(frozen=True, slots=True)
class Rejected:
    """A bid the rules refuse; the state is unchanged."""

    code: RejectCode
    ok: Literal[False] = False


Decision = Accepted | Rejected


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of a closed round: sold to winner at price, or unsold."""

    sold: bool
    winner: str | None = None
    price: int | None = None


@dataclass(frozen=True, slots=True)
class Advance:
    """Who goes on from a closed round (best first) and the best bid of that round."""

    bidders: tuple[str, ...]
    best: int | None


def effective_status(spec: RoundSpec, state: RoundState, now_ms: int) -> Status:
    """Scheduled, open or closed at now_ms; past-due rounds are closed even if not closed yet."""
    if state.closed or now_ms >= state.ends_at_ms:
        return "closed"
    if now_ms < spec.starts_at_ms:
        return "scheduled"
    return "open"


def soft_close_ends_at(spec: RoundSpec, ends_at_ms: int, now_ms: int) -> int:
    """Where ends_at moves after a bid accepted at now_ms (anti-sniping, capped at hard close)."""
    if now_ms < ends_at_ms - spec.window_ms:
        return ends_at_ms
    moved = max(ends_at_ms, now_ms + spec.extension_ms)
    if spec.hard_close_ms is not None:
        moved = min(moved, spec.hard_close_ms)
    return max(moved, ends_at_ms)


def with_bid(bids: tuple[StandingBid, ...], bid: StandingBid) -> tuple[StandingBid, ...]:
    """bids with bid.bidder's standing bid replaced by bid (kept sorted by bidder)."""
    kept = [b for b in bids if b.bidder != bid.bidder]
    return tuple(sorted([*kept, bid], key=lambda b: b.bidder))


def standing(trail: Iterable[StandingBid]) -> tuple[StandingBid, ...]:
    """The standing bid of every bidder in a round's trail: his latest by seq."""
    latest: dict[str, StandingBid] = {}
    for bid in trail:
        if bid.bidder not in latest or bid.seq > latest[bid.bidder].seq:
            latest[bid.bidder] = bid
    return tuple(sorted(latest.values(), key=lambda b: b.bidder))


def rank(bids: Iterable[StandingBid]) -> list[StandingBid]:
    """Standing bids best first: higher amount, then the earlier bid (lower seq)."""
    return sorted(bids, key=lambda b: (-b.amount, b.seq))
