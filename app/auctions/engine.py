"""The Redis side of bidding: runs the Lua scripts and maps replies to the rules' vocabulary.

Every key of one auction shares the hash tag ``{auction:<id>}`` so the scripts work on a
Redis Cluster; only the global deadlines sorted set lives elsewhere and is never touched by
a script. All bidding time is the Redis server's clock (TIME inside the scripts).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from app.auctions.rules import (
    MAX_AMOUNT,
    Outcome,
    RejectCode,
    RoundSpec,
    RoundState,
    Status,
    UnsupportedRoundKind,
    effective_status,
)

AsyncRedisClient = Redis | RedisCluster
CloseStatus = Literal["not_due", "closed", "already_closed", "no_round"]
OpenStatus = Literal["opened", "exists", "stale", "previous_round_open"]

LUA_DIR = Path(__file__).with_name("lua")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_PREFIX = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_UNSUPPORTED = re.compile(r"UNSUPPORTED_ROUND_KIND (\S+)")


@dataclass(frozen=True, slots=True)
class AuctionKeys:
    """The Redis keys of one auction (one hash slot)."""

    state: str
    bidders: str
    idem: str
    events: str


@dataclass(frozen=True, slots=True)
class BidAccepted:
    """An accepted bid as recorded in Redis."""

    seq: int
    amount: int
    paddle: str
    placed_at_ms: int
    ends_at_ms: int
    extended: bool
    event_id: str
    ok: Literal[True] = True
    code: Literal["accepted"] = "accepted"


@dataclass(frozen=True, slots=True)
class BidRejected:
    """A refused bid; seq and ends_at_ms describe the unchanged round at decision time."""

    code: RejectCode
    amount: int
    paddle: str | None
    decided_at_ms: int
    seq: int
    ends_at_ms: int | None
    ok: Literal[False] = False


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
    """What close_round found or did; outcome is set once the round is closed."""

    status: CloseStatus
    ends_at_ms: int | None
    round_index: int | None
    outcome: Outcome | None
    winner_paddle: str | None
    closed_at_ms: int | None
    now_ms: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A consistent read of a round together with the Redis server time."""

    spec: RoundSpec
    state: RoundState
    now_ms: int
    round_index: int
    final: bool
    leader_paddle: str | None
    close: CloseResult | None

    @property
    def status(self) -> Status:
        """Scheduled, open or closed at the server time of the read."""
        return effective_status(self.spec, self.state, self.now_ms)


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


def _s(value: Any) -> str:
    """A reply element as str, whatever decode_responses is."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _opt_int(value: Any) -> int | None:
    """An int, or None for an empty field."""
    text = _s(value) if value is not None else ""
    return int(text) if text else None


def _arg(value: int | None) -> str:
    """An optional int as a script argument ('' for None)."""
    return "" if value is None else str(value)


def _check_id(name: str, value: object) -> str:
    """Refuse ids that could break the key layout or the idempotency field."""
    text = str(value)
    if not _ID.match(text):
        raise ValueError(f"{name} must match {_ID.pattern}, got {text!r}")
    return text


def _load(name: str) -> str:
    return (LUA_DIR / name).read_text(encoding="utf-8")


def _raise_unsupported(exc: ResponseError) -> None:
    """Turn the scripts' UNSUPPORTED_ROUND_KIND error into the rules' exception."""
    found = _UNSUPPORTED.search(str(exc))
    if found:
        raise UnsupportedRoundKind(found.group(1)) from exc


def _spec_from(h: Mapping[str, str]) -> RoundSpec:
    return RoundSpec(
        kind=h["kind"],
        starts_at_ms=int(h["starts_at_ms"]),
        ends_at_ms=int(h["spec_ends_at_ms"]),
        starting_price=int(h["starting_price"]),
        increment=int(h["increment"]),
        window_ms=int(h["window_ms"]),
        extension_ms=int(h["extension_ms"]),
        hard_close_ms=_opt_int(h.get("hard_close_ms")),
        reserve=_opt_int(h.get("reserve")),
    )


def _state_from(h: Mapping[str, str]) -> RoundState:
    return RoundState(
        ends_at_ms=int(h["ends_at_ms"]),
        current_price=_opt_int(h.get("current_price")),
        leader=h.get("leader") or None,
        bid_count=int(h.get("bid_count") or 0),
        seq=int(h.get("seq") or 0),
        closed=h.get("closed") == "1",
    )


def _bid_result(reply: Sequence[Any]) -> BidResult:
    status, code, seq, amount, paddle, at, ends, extended, event_id = map(_s, reply)
    if status == "ok":
        return BidAccepted(int(seq), int(amount), paddle, int(at), int(ends), extended == "1",
                           event_id)
    return BidRejected(cast(RejectCode, code), int(amount), paddle or None, int(at), int(seq),
                       _opt_int(ends))


def _close_result(reply: Sequence[Any]) -> CloseResult:
    status, ends, round_, outcome, winner, paddle, price, closed_at, now = map(_s, reply)
    result = None
    if outcome:
        result = Outcome(outcome == "sold", winner or None, _opt_int(price))
    return CloseResult(cast(CloseStatus, status), _opt_int(ends), _opt_int(round_), result,
                       paddle or None, _opt_int(closed_at), int(now))


class Engine:
    """Bidding rounds in Redis: open, qualify, bid, close, read, deadlines and events."""

    def __init__(self, redis: AsyncRedisClient, prefix: str, *, max_in_flight: int = 64) -> None:
        if not _PREFIX.match(prefix):
            raise ValueError(f"prefix must match {_PREFIX.pattern}, got {prefix!r}")
        self.redis = redis
        self.prefix = prefix
        # redis-py's asyncio pools raise MaxConnectionsError (default 100) instead of waiting,
        # so a burst of bids queues here rather than failing.
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._open = redis.register_script(_load("open_round.lua"))
        self._bid = redis.register_script(_load("place_bid.lua"))
        self._close = redis.register_script(_load("close_round.lua"))
        self._read = redis.register_script(_load("read_state.lua"))

    @property
    def deadlines_key(self) -> str:
        """The global sorted set auction_id -> ends_at_ms (may lag behind extensions)."""
        return f"{self.prefix}:deadlines"

    def keys(self, auction_id: object) -> AuctionKeys:
        """The keys of one auction, all in the hash slot of {auction:<id>}."""
        base = f"{self.prefix}:{{auction:{_check_id('auction_id', auction_id)}}}"
        return AuctionKeys(f"{base}:state", f"{base}:bidders", f"{base}:idem", f"{base}:events")

    async def _run(self, script: Any, keys: Sequence[str], args: Sequence[str]) -> Any:
        try:
            async with self._in_flight:
                return await script(keys=list(keys), args=list(args))
        except ResponseError as exc:
            _raise_unsupported(exc)
            raise

    async def open_round(
        self,
        auction_id: object,
        spec: RoundSpec,
        round_index: int,
        *,
        final: bool = True,
        restore: RoundState | None = None,
        leader_paddle: str | None = None,
    ) -> OpenResult:
        """Initialise a round once (restore rebuilds it from the durable trail); schedule it."""
        state = restore or RoundState.initial(spec)
        _check_restore(spec, state, leader_paddle)
        args = [
            str(round_index), spec.kind, str(spec.starts_at_ms), str(spec.ends_at_ms),
            str(spec.starting_price), str(spec.increment), str(spec.window_ms),
            str(spec.extension_ms), _arg(spec.hard_close_ms), _arg(spec.reserve),
            "1" if final else "0",
        ]
        if restore is not None:
            args += [_arg(state.current_price), state.leader or "", leader_paddle or "",
                     str(state.bid_count), str(state.seq), str(state.ends_at_ms)]
        status, index = map(_s, await self._run(self._open, [self.keys(auction_id).state], args))
        result = OpenResult(cast(OpenStatus, status), int(index))
        if result.initialised:
            await self.schedule_deadline(auction_id, state.ends_at_ms)
        return result

    async def qualify(self, auction_id: object, bidder_id: object, paddle: str) -> None:
        """Let bidder_id bid in this auction under paddle."""
        bidder = _check_id("bidder_id", bidder_id)
        await self.redis.hset(self.keys(auction_id).bidders, bidder, _check_id("paddle", paddle))

    async def place_bid(
        self,
        auction_id: object,
        *,
        bidder_id: object,
        amount: int,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> BidResult:
        """Decide one bid atomically in Redis (idempotent per bidder and key)."""
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
            raise ValueError(f"amount must be an integer in 1..{MAX_AMOUNT} minor units")
        if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
            raise ValueError("idempotency_key must have 1..255 characters")
        k = self.keys(auction_id)
        args = [
            _check_id("bidder_id", bidder_id), str(amount), idempotency_key or "",
            fingerprint if fingerprint is not None else fingerprint_of({"amount": amount}),
        ]
        return _bid_result(await self._run(self._bid, [k.state, k.bidders, k.idem, k.events], args))

    async def close_round(self, auction_id: object) -> CloseResult:
        """Close the round if due; not_due carries the current ends_at for rescheduling."""
        k = self.keys(auction_id)
        return _close_result(await self._run(self._close, [k.state, k.events], []))

    async def read(self, auction_id: object) -> Snapshot | None:
        """Spec, state and server time read atomically; None when no round was opened."""
        now, flat = await self._run(self._read, [self.keys(auction_id).state], [])
        items = [_s(v) for v in flat]
        h = dict(zip(items[::2], items[1::2], strict=True))
        if not h:
            return None
        close = None
        if h.get("closed") == "1":
            reply = ["already_closed", h["ends_at_ms"], h["round"], h.get("outcome", ""),
                     h.get("winner", ""), h.get("winner_paddle", ""), h.get("price", ""),
                     h.get("closed_at_ms", ""), _s(now)]
            close = _close_result(reply)
        return Snapshot(_spec_from(h), _state_from(h), int(_s(now)), int(h["round"]),
                        h.get("final") == "1", h.get("leader_paddle") or None, close)

    async def schedule_deadline(self, auction_id: object, ends_at_ms: int) -> None:
        """Record (or move) when the worker should next try to close this auction."""
        await self.redis.zadd(self.deadlines_key, {_check_id("auction_id", auction_id): ends_at_ms})

    async def unschedule_deadline(self, auction_id: object) -> None:
        """Forget the deadline of an auction whose last round is closed."""
        await self.redis.zrem(self.deadlines_key, _check_id("auction_id", auction_id))

    async def due_auctions(self, now_ms: int, limit: int = 100) -> list[str]:
        """Auction ids whose recorded deadline is at or before now_ms, earliest first."""
        ids = await self.redis.zrangebyscore(self.deadlines_key, "-inf", now_ms, start=0, num=limit)
        return [_s(i) for i in ids]

    async def events_since(
        self,
        auction_id: object,
        last_id: str | None = None,
        count: int = 100,
        block_ms: int | None = None,
    ) -> list[Event]:
        """Events after last_id (None = from the start); block_ms waits for new ones."""
        key = self.keys(auction_id).events
        if block_ms is None:
            start = f"({last_id}" if last_id else "-"
            rows = await self.redis.xrange(key, min=start, max="+", count=count)
        else:
            reply = await self.redis.xread({key: last_id or "0-0"}, count=count, block=block_ms)
            rows = _stream_rows(reply)
        return [_event(entry_id, fields) for entry_id, fields in rows]

    async def server_time_ms(self) -> int:
        """The Redis server clock in epoch milliseconds."""
        seconds, micros = await self.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000


def _check_restore(spec: RoundSpec, state: RoundState, leader_paddle: str | None) -> None:
    """Refuse a restore state the rules could never have produced."""
    if state.closed:
        raise ValueError("a closed round is settled from SQL, not restored into Redis")
    if not spec.ends_at_ms <= state.ends_at_ms <= (spec.hard_close_ms or state.ends_at_ms):
        raise ValueError("restored ends_at_ms must lie between the spec's ends_at and hard close")
    if (state.leader is None) != (state.current_price is None) or (
        state.leader is not None and not leader_paddle
    ):
        raise ValueError("a restored leader needs a current price and a paddle, and vice versa")


def _stream_rows(reply: Any) -> list[Any]:
    """The entries of a one-stream XREAD reply (RESP2 list or RESP3 dict)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        (entries,) = reply.values()
        return list(entries[0] if entries and isinstance(entries[0], list) else entries)
    return list(reply[0][1])


def _event(entry_id: Any, fields: Mapping[Any, Any]) -> Event:
    decoded = {_s(k): _s(v) for k, v in fields.items()}
    return Event(_s(entry_id), decoded.get("type", ""), decoded)
