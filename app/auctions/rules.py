"""Pure bidding rules: round kinds, bid decisions, soft close, outcomes (no I/O, no clock).

Money is integer minor units (cents); time is integer epoch milliseconds passed in as
``now_ms``. The Lua scripts in ``lua/`` implement the same decisions and are tested on the
same table of cases (tests/engine/cases.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final, Literal, get_args

RoundKind = Literal["english", "dutch", "sealed_first_price", "sealed_second_price"]
Status = Literal["scheduled", "open", "closed"]
RejectCode = Literal[
    "idempotency_key_reused",
    "not_qualified",
    "auction_not_open",
    "auction_closed",
    "already_leading",
    "bid_too_low",
]

KNOWN_KINDS: Final = frozenset({"english", "dutch", "sealed_first_price", "sealed_second_price"})
SUPPORTED_KINDS: Final = frozenset({"english"})
REJECT_CODES: Final[frozenset[str]] = frozenset(get_args(RejectCode))
MAX_AMOUNT: Final = 100_000_000_000_000  # 1,000,000,000,000.00 in minor units


class UnsupportedRoundKind(ValueError):
    """A round kind this engine does not (yet) implement."""

    def __init__(self, kind: str) -> None:
        known = "known but not implemented yet" if kind in KNOWN_KINDS else "unknown"
        supported = ", ".join(sorted(SUPPORTED_KINDS))
        super().__init__(f"round kind {kind!r} is {known}; supported: {supported}")
        self.kind = kind


def _int(name: str, value: object, *, minimum: int) -> None:
    """Refuse anything but an int >= minimum (bools included)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True, slots=True)
class RoundSpec:
    """What an admin configured for one round; never changes once the round is open."""

    kind: str
    starts_at_ms: int
    ends_at_ms: int
    starting_price: int
    increment: int
    window_ms: int = 0
    extension_ms: int = 0
    hard_close_ms: int | None = None
    reserve: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in SUPPORTED_KINDS:
            raise UnsupportedRoundKind(self.kind)
        for name in ("starts_at_ms", "window_ms", "extension_ms"):
            _int(name, getattr(self, name), minimum=0)
        _int("ends_at_ms", self.ends_at_ms, minimum=self.starts_at_ms + 1)
        _int("starting_price", self.starting_price, minimum=1)
        _int("increment", self.increment, minimum=1)
        if self.hard_close_ms is not None:
            _int("hard_close_ms", self.hard_close_ms, minimum=self.ends_at_ms)
        if self.reserve is not None:
            _int("reserve", self.reserve, minimum=1)
        if max(self.starting_price, self.reserve or 0) > MAX_AMOUNT:
            raise ValueError(f"prices must be at most {MAX_AMOUNT} minor units")


@dataclass(frozen=True, slots=True)
class RoundState:
    """The live state of a round; only accepted bids and the close change it."""

    ends_at_ms: int
    current_price: int | None = None
    leader: str | None = None
    bid_count: int = 0
    seq: int = 0
    closed: bool = False

    @classmethod
    def initial(cls, spec: RoundSpec, *, seq: int = 0) -> RoundState:
        """The state of a freshly opened round (seq carries over between rounds)."""
        return cls(ends_at_ms=spec.ends_at_ms, seq=seq)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A bid the rules accept, with the state it leads to."""

    state: RoundState
    amount: int
    extended: bool
    ends_at_ms: int
    seq: int
    ok: Literal[True] = True


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


def _require_supported(spec: RoundSpec) -> None:
    """Refuse a spec whose kind has no implementation (defence in depth)."""
    if spec.kind not in _DECIDERS:
        raise UnsupportedRoundKind(spec.kind)


def effective_status(spec: RoundSpec, state: RoundState, now_ms: int) -> Status:
    """Scheduled, open or closed at now_ms; past-due rounds are closed even if not closed yet."""
    if state.closed or now_ms >= state.ends_at_ms:
        return "closed"
    if now_ms < spec.starts_at_ms:
        return "scheduled"
    return "open"


def minimum_next_bid(spec: RoundSpec, state: RoundState) -> int:
    """The lowest amount the next bid may have."""
    _require_supported(spec)
    if state.current_price is None:
        return spec.starting_price
    return state.current_price + spec.increment


def soft_close_ends_at(spec: RoundSpec, ends_at_ms: int, now_ms: int) -> int:
    """Where ends_at moves after a bid accepted at now_ms (anti-sniping, capped at hard close)."""
    if now_ms < ends_at_ms - spec.window_ms:
        return ends_at_ms
    moved = max(ends_at_ms, now_ms + spec.extension_ms)
    if spec.hard_close_ms is not None:
        moved = min(moved, spec.hard_close_ms)
    return max(moved, ends_at_ms)


def _decide_english(
    spec: RoundSpec, state: RoundState, bidder: str, amount: int, now_ms: int
) -> Decision:
    """English: ascending open outcry with a minimum increment and soft close."""
    if state.closed:
        return Rejected("auction_closed")
    if now_ms < spec.starts_at_ms:
        return Rejected("auction_not_open")
    if now_ms >= state.ends_at_ms:
        return Rejected("auction_closed")
    if state.leader == bidder:
        return Rejected("already_leading")
    if amount < minimum_next_bid(spec, state):
        return Rejected("bid_too_low")
    ends_at = soft_close_ends_at(spec, state.ends_at_ms, now_ms)
    new = replace(
        state,
        current_price=amount,
        leader=bidder,
        bid_count=state.bid_count + 1,
        seq=state.seq + 1,
        ends_at_ms=ends_at,
    )
    return Accepted(new, amount, ends_at != state.ends_at_ms, ends_at, new.seq)


_Decider = Callable[[RoundSpec, RoundState, str, int, int], Decision]
_DECIDERS: Final[dict[str, _Decider]] = {"english": _decide_english}


def decide_bid(
    spec: RoundSpec, state: RoundState, *, bidder: str, amount: int, now_ms: int
) -> Decision:
    """Accept or reject one bid by a qualified bidder at now_ms, dispatching on the round kind."""
    decider = _DECIDERS.get(spec.kind)
    if decider is None:
        raise UnsupportedRoundKind(spec.kind)
    return decider(spec, state, bidder, amount, now_ms)


def round_outcome(spec: RoundSpec, state: RoundState) -> Outcome:
    """Sold to the leader at the current price if it meets the reserve, else unsold."""
    _require_supported(spec)
    price = state.current_price
    if price is None or state.leader is None:
        return Outcome(sold=False)
    if spec.reserve is not None and price < spec.reserve:
        return Outcome(sold=False)
    return Outcome(sold=True, winner=state.leader, price=price)
