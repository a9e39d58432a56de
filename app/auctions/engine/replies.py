"""What the engine answers: its result types and how script replies map onto them.

Import these from ``app.auctions.engine``, which re-exports them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from app.auctions.domain.rules import (
    Advance,
    Outcome,
    RejectCode,
    RoundSpec,
    RoundState,
    StandingBid,
    Status,
    effective_status,
    is_sealed,
    is_sealed_kind,
    minimum_next_bid,
)
from app.redis import as_text

CloseStatus = Literal["not_due", "paused", "closed", "already_closed", "no_round"]
OpenStatus = Literal["opened", "exists", "stale", "previous_round_open"]


@dataclass(frozen=True, slots=True)
class AuctionKeys:
    """The Redis keys of one auction (one hash slot)."""

    state: str
    bidders: str
    idem: str
    events: str
    bids: str  # standing bids of the current round: bidder -> 'amount:seq'
    advanced: str  # who may bid in restricted rounds: '<round>:<bidder>'
    private: str  # stream of sealed bids for trail reconciliation; never served


@dataclass(frozen=True, slots=True)
class PlacedBid:
    """One bid a request placed in Redis: the caller's own, or one a proxy placed for the
    leader. All of them belong in the durable trail."""

    bidder: str
    paddle: str
    seq: int
    amount: int
    ends_at_ms: int
    extended: bool
    event_id: str
    by_proxy: bool
    channel: str = "online"  # online | absentee | floor (a proxy's bid: its maximum's channel)


@dataclass(frozen=True, slots=True)
class BidAccepted:
    """An accepted bid as recorded in Redis (seq/amount/paddle/event_id: the caller's own).

    ``placed`` holds every bid the request placed, in seq order (2 when a proxy answered or
    was beaten); ``outbid``: a proxy answered at once and the caller does not lead;
    ``closed``: a dutch bid took the lot and closed the round. For sealed rounds
    (``sealed``) there is no public event (event_id is the entry in the private stream)
    and seq must not be shown to the bidder before the close: it counts the hidden bids.
    """

    seq: int
    amount: int
    paddle: str
    placed_at_ms: int
    ends_at_ms: int
    extended: bool
    event_id: str
    ok: Literal[True] = True
    code: Literal["accepted"] = "accepted"
    kind: str = "english"
    outbid: bool = False
    closed: bool = False
    placed: tuple[PlacedBid, ...] = ()
    round_index: int = 0
    proxy_max: int | None = None  # the leader's live maximum after it: for the trail only

    @property
    def sealed(self) -> bool:
        """True when the bid was placed in a sealed round."""
        return is_sealed_kind(self.kind)


@dataclass(frozen=True, slots=True)
class BidRejected:
    """A refused bid; seq and ends_at_ms describe the unchanged round at decision time
    (seq is 0 in sealed rounds, whose sequence would count hidden bids)."""

    code: RejectCode
    amount: int | None
    paddle: str | None
    decided_at_ms: int
    seq: int
    ends_at_ms: int | None
    ok: Literal[False] = False
    kind: str = ""
    unloaded: bool = False  # Redis held no round: a rebuild from SQL may decide otherwise
    minimum_next: int | None = None  # bid_too_low in a kind that shows it: the lowest next bid


BidResult = BidAccepted | BidRejected


@dataclass(frozen=True, slots=True)
class OpenResult:
    """What open_round did."""

    status: OpenStatus
    round_index: int

    @property
    def initialised(self) -> bool:
        """True when this call initialised the round."""
        return self.status == "opened"


@dataclass(frozen=True, slots=True)
class CloseResult:
    """What close_round found or did; outcome is set once the round is closed.

    For a non-final round with an advance count, ``advance`` names the bidders who go on
    (best first; they may bid in the next round) and the round's best bid, and
    ``advanced_paddles`` their paddles. Its outcome is provisional: the lot is not sold
    until the final round closes.
    """

    status: CloseStatus
    ends_at_ms: int | None
    round_index: int | None
    outcome: Outcome | None
    winner_paddle: str | None
    closed_at_ms: int | None
    now_ms: int
    advance: Advance | None = None
    advanced_paddles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A consistent read of a round together with the Redis server time.

    It is the whole truth (for the service, admin, auditor): before showing it to anyone
    else use ``public()``, which hides sealed bids and the proxy maximum.
    """

    spec: RoundSpec
    state: RoundState
    now_ms: int
    round_index: int
    final: bool
    leader_paddle: str | None
    close: CloseResult | None
    paused_at_ms: int | None = None  # its session is paused (since then, Redis clock)

    @property
    def clock_ms(self) -> int:
        """The round's own time: the read's server time, or while paused the pause's start
        (its clock stopped there: a lot past its close during a pause is not closed)."""
        return self.now_ms if self.paused_at_ms is None else min(self.paused_at_ms, self.now_ms)

    @property
    def status(self) -> Status:
        """Scheduled, open or closed at the round's own time (see clock_ms)."""
        return effective_status(self.spec, self.state, self.clock_ms)

    @property
    def sealed(self) -> bool:
        """True while a sealed round's price, leader, count and sequence must stay hidden
        from everyone but admin and auditor (until the close script has run)."""
        return is_sealed(self.spec) and not self.state.closed

    @property
    def minimum_next_bid(self) -> int | None:
        """What the next bid must be at least at the read's server time (dutch: the clock
        price); None unless the round is open."""
        if self.status != "open":
            return None
        return minimum_next_bid(self.spec, self.state, now_ms=self.clock_ms)

    def public(self) -> Snapshot:
        """The snapshot as anyone may see it: no standing bids (bidder ids, sealed amounts),
        no proxy maximum, and while sealed no price, leader, bid count or sequence."""
        state = replace(self.state, bids=(), proxy_max=None)
        paddle = self.leader_paddle
        if self.sealed:
            state = replace(state, current_price=None, leader=None, bid_count=0, seq=0)
            paddle = None
        return replace(self, state=state, leader_paddle=paddle)


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of an auction's event stream."""

    id: str
    type: str
    fields: dict[str, str]


def fingerprint_of(body: Mapping[str, Any]) -> str:
    """SHA-256 of a request body in canonical JSON, for idempotency checks."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def opt_int(value: Any) -> int | None:
    """An int, or None for an empty field."""
    text = as_text(value) if value is not None else ""
    return int(text) if text else None


def spec_from(h: Mapping[str, str]) -> RoundSpec:
    return RoundSpec(
        kind=h["kind"],
        starts_at_ms=int(h["starts_at_ms"]),
        ends_at_ms=int(h["spec_ends_at_ms"]),
        starting_price=int(h["starting_price"]),
        increment=int(h["increment"]),
        window_ms=int(h["window_ms"]),
        extension_ms=int(h["extension_ms"]),
        hard_close_ms=opt_int(h.get("hard_close_ms")),
        reserve=opt_int(h.get("reserve")),
        step=opt_int(h.get("step")),
        interval_ms=opt_int(h.get("interval_ms")),
        floor=opt_int(h.get("floor")),
        advance=opt_int(h.get("advance")),
    )


def state_from(h: Mapping[str, str], bids: Mapping[str, str]) -> RoundState:
    standing = []
    for bidder, value in bids.items():
        amount, seq = value.split(":")
        standing.append(StandingBid(bidder, int(amount), int(seq)))
    return RoundState(
        ends_at_ms=int(h["ends_at_ms"]),
        current_price=opt_int(h.get("current_price")),
        leader=h.get("leader") or None,
        bid_count=int(h.get("bid_count") or 0),
        seq=int(h.get("seq") or 0),
        closed=h.get("closed") == "1",
        bids=tuple(sorted(standing, key=lambda b: b.bidder)),
        proxy_max=opt_int(h.get("proxy_max")),
    )


def bid_result(reply: Sequence[Any]) -> BidResult:
    (status, code, seq, amount, paddle, at, ends, extended, event_id, kind, outbid, closed,
     placed, round_, proxy_max) = map(as_text, reply)
    if status == "ok":
        bids = tuple(
            PlacedBid(b, p, int(q), int(a), int(e), x == "1", i, y == "1", c)
            for b, p, q, a, e, x, i, y, c in json.loads(placed)
        )
        return BidAccepted(int(seq), int(amount), paddle, int(at), int(ends), extended == "1",
                           event_id, kind=kind, outbid=outbid == "1", closed=closed == "1",
                           placed=bids, round_index=int(round_), proxy_max=opt_int(proxy_max))
    return BidRejected(cast(RejectCode, code), opt_int(amount), paddle or None, int(at), int(seq),
                       opt_int(ends), kind=kind, unloaded=round_ == "",
                       minimum_next=opt_int(proxy_max))


def close_result(reply: Sequence[Any]) -> CloseResult:
    (status, ends, round_, outcome, winner, paddle, price, closed_at, now, adv, adv_bidders,
     adv_paddles, adv_best) = map(as_text, reply)
    result = None
    if outcome:
        result = Outcome(outcome == "sold", winner or None, opt_int(price))
    advance, paddles = None, ()
    if adv == "1":
        advance = Advance(tuple(filter(None, adv_bidders.split(","))), opt_int(adv_best))
        paddles = tuple(filter(None, adv_paddles.split(",")))
    return CloseResult(cast(CloseStatus, status), opt_int(ends), opt_int(round_), result,
                       paddle or None, opt_int(closed_at), int(now), advance, paddles)


def close_from_state(h: Mapping[str, str], now: Any) -> CloseResult:
    """The stored close of a closed round, as close_round would report it again."""
    names = ("ends_at_ms", "round", "outcome", "winner", "winner_paddle", "price",
             "closed_at_ms")
    tail = ("advance_done", "advanced_bidders", "advanced_paddles", "advanced_best")
    return close_result(["already_closed", *(h.get(n, "") for n in names), as_text(now),
                         *(h.get(n, "") for n in tail)])
