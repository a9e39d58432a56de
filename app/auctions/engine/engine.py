"""The Redis side of bidding: runs the Lua scripts and maps replies to the rules' vocabulary.

Every key of one auction shares the hash tag ``{auction:<id>}`` so the scripts work on a
Redis Cluster; only the global deadlines sorted set lives elsewhere and is never touched by
a script. All bidding time is the Redis server's clock (TIME inside the scripts).

Scripts are assembled from ``lua/``: lib.lua (shared helpers) + the round kinds (the registry's
flags, kinds.lua, then lua/kinds/<name>.lua of every registered kind) + the script itself, so
each runs as one atomic EVALSHA.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from app.auctions.domain.rules import (
    KINDS,
    MAX_AMOUNT,
    RoundSpec,
    RoundState,
    UnsupportedRoundKind,
    kind_of,
)
from app.auctions.engine.batcher import ScriptBatcher
from app.auctions.engine.control import RoundControl
from app.auctions.engine.replies import (
    AuctionKeys,
    BidAccepted,
    BidResult,
    CloseResult,
    Event,
    OpenResult,
    OpenStatus,
    Snapshot,
    bid_result,
    close_from_state,
    close_result,
    fingerprint_of,
    spec_from,
    state_from,
)
from app.redis import AsyncRedis, as_text

LUA_DIR = Path(__file__).with_name("lua")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_PREFIX = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_UNSUPPORTED = re.compile(r"UNSUPPORTED_ROUND_KIND (\S+)")
_BAD_BID = re.compile(r"BAD_BID (.+)")


def _arg(value: int | None) -> str:
    """An optional int as a script argument ('' for None)."""
    return "" if value is None else str(value)


def _check_id(name: str, value: object) -> str:
    """Refuse ids that could break the key layout or the idempotency field."""
    text = str(value)
    if not _ID.match(text):
        raise ValueError(f"{name} must match {_ID.pattern}, got {text!r}")
    return text


def _check_money(name: str, value: int | None) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT
    ):
        raise ValueError(f"{name} must be an integer in 1..{MAX_AMOUNT} minor units")


def _load(*names: str) -> str:
    return "\n".join((LUA_DIR / name).read_text(encoding="utf-8") for name in names)


def _with_kinds(script: str) -> str:
    """lib.lua, every registered round kind, then script: what place_bid and close_round run.

    The kinds' flags come from the registry, so Lua and Python never disagree on them."""
    flags = ", ".join(
        f"{name} = {{ sealed = {str(kind.sealed).lower()}, soft = {str(kind.soft_close).lower()} }}"
        for name, kind in KINDS.items()
    )
    kinds = [f"kinds/{name}.lua" for name in KINDS]
    return "\n".join([_load("lib.lua"), f"local FLAGS = {{ {flags} }}", _load("kinds.lua", *kinds, script)])


def _spec_fields(spec: RoundSpec, final: bool) -> dict[str, str]:
    """The state hash fields of a round's spec (read back by replies.spec_from)."""
    return {
        "kind": spec.kind, "starts_at_ms": str(spec.starts_at_ms),
        "spec_ends_at_ms": str(spec.ends_at_ms), "starting_price": str(spec.starting_price),
        "increment": str(spec.increment), "window_ms": str(spec.window_ms),
        "extension_ms": str(spec.extension_ms), "hard_close_ms": _arg(spec.hard_close_ms),
        "reserve": _arg(spec.reserve), "final": "1" if final else "0",
        "step": _arg(spec.step), "interval_ms": _arg(spec.interval_ms), "floor": _arg(spec.floor),
        "advance": _arg(spec.advance),
    }


def round_json(
    spec: RoundSpec, round_index: int, *, final: bool, restore: RoundState | None,
    leader_paddle: str | None, advanced: list[str] | None, proxy_channel: str | None = None,
) -> str:
    """The one argument of open_round.lua: the round's state hash fields and what it restores."""
    state = restore or RoundState.initial(spec)
    fields = _spec_fields(spec, final) | {
        "closed": "0", "current_price": _arg(state.current_price), "leader": state.leader or "",
        "leader_paddle": (leader_paddle or "") if restore is not None else "",
        "bid_count": str(state.bid_count), "ends_at_ms": str(state.ends_at_ms),
        "proxy_max": _arg(state.proxy_max),
        # the channel the leader's maximum came by (place_bid.lua gives it to his proxy's bids)
        "proxy_channel": (proxy_channel or "") if restore is not None else "",
    }
    body: dict[str, Any] = {"round": str(round_index), "fields": fields,
                            "bids": [[b.bidder, f"{b.amount}:{b.seq}"] for b in state.bids]}
    if restore is not None:
        body["seq"] = str(state.seq)
    if advanced is not None:
        body["advanced"] = advanced
    return json.dumps(body, separators=(",", ":"))


def _raise_script_error(exc: ResponseError) -> None:
    """Turn the scripts' own errors into the rules' exceptions."""
    found = _UNSUPPORTED.search(str(exc))
    if found:
        raise UnsupportedRoundKind(found.group(1)) from exc
    bad = _BAD_BID.search(str(exc))
    if bad:
        raise ValueError(bad.group(1)) from exc


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    items = [as_text(v) for v in flat]
    return dict(zip(items[::2], items[1::2], strict=True))


class Engine:
    """Bidding rounds in Redis: open, qualify, bid, close, read, deadlines and events."""

    def __init__(self, redis: AsyncRedis, prefix: str, *, max_in_flight: int = 64) -> None:
        if not _PREFIX.match(prefix):
            raise ValueError(f"prefix must match {_PREFIX.pattern}, got {prefix!r}")
        self.redis = redis
        self.prefix = prefix
        # A cluster client's per-node pools raise MaxConnectionsError instead of waiting, so
        # there a burst of calls queues here rather than failing. A single Redis needs no such
        # gate: its blocking pool waits for a free connection (app/redis.py), and the bids go
        # out on the batcher's own connection in batches of its own size.
        self._in_flight: AbstractAsyncContextManager[Any] = (
            contextlib.nullcontext() if isinstance(redis, Redis) else asyncio.Semaphore(max_in_flight))
        self._open = redis.register_script(_load("open_round.lua"))
        bid = redis.register_script(_with_kinds("place_bid.lua"))
        # On a single Redis the bids of one event-loop turn are written together on the
        # batcher's own connection (batcher.py); a cluster client sends each call to its
        # own slot's node.
        self._bid = ScriptBatcher(redis, bid) if isinstance(redis, Redis) else bid
        self._close = redis.register_script(_with_kinds("close_round.lua"))
        self._read = redis.register_script(_load("read_state.lua"))
        self.control = RoundControl(self)  # pause, resume, withdraw (control.py)

    async def aclose(self) -> None:
        """Close the connection the bid batcher holds (the client's pool is the caller's)."""
        if isinstance(self._bid, ScriptBatcher):
            await self._bid.aclose()

    @property
    def deadlines_key(self) -> str:
        """The global sorted set auction_id -> ends_at_ms (may lag behind extensions)."""
        return f"{self.prefix}:deadlines"

    def keys(self, auction_id: object) -> AuctionKeys:
        """The keys of one auction, all in the hash slot of {auction:<id>}."""
        base = f"{self.prefix}:{{auction:{_check_id('auction_id', auction_id)}}}"
        return AuctionKeys(f"{base}:state", f"{base}:bidders", f"{base}:idem", f"{base}:events",
                           f"{base}:bids", f"{base}:advanced", f"{base}:private")

    async def _run(self, script: Any, keys: Sequence[str], args: Sequence[str]) -> Any:
        try:
            async with self._in_flight:
                return await script(keys=list(keys), args=list(args))
        except ResponseError as exc:
            _raise_script_error(exc)
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
        advanced: Iterable[object] | None = None,
        proxy_channel: str | None = None,
    ) -> OpenResult:
        """Initialise a round once (restore rebuilds it from the durable trail); schedule it.

        ``advanced``: only these bidders may bid in this round. Left None, a round right
        after one that advanced its best bidders (spec.advance) is restricted to them.
        """
        kind = kind_of(spec.kind)
        if kind.must_be_final and not final:
            raise ValueError(f"a {kind.name} round {kind.must_be_final}: it must be the final round")
        if spec.advance is not None and final:
            raise ValueError("advance is for non-final rounds: the final round has no next")
        state = restore or RoundState.initial(spec)
        _check_restore(spec, state, leader_paddle)
        ids = None if advanced is None else [_check_id("bidder_id", b) for b in advanced]
        args = [round_json(spec, round_index, final=final, restore=restore,
                           leader_paddle=leader_paddle, advanced=ids,
                           proxy_channel=proxy_channel)]
        k = self.keys(auction_id)
        status, index = map(as_text, await self._run(self._open, [k.state, k.bids, k.advanced], args))
        result = OpenResult(cast(OpenStatus, status), int(index))
        if result.initialised:
            await self.schedule_deadline(auction_id, state.ends_at_ms)
        return result

    async def qualify(
        self, auction_id: object, bidder_id: object, paddle: str, *, round_index: int | None = None
    ) -> None:
        """Let bidder_id bid in this auction under paddle; with round_index, also let him bid
        in that round when it is restricted to advanced bidders."""
        bidder = _check_id("bidder_id", bidder_id)
        k = self.keys(auction_id)
        if round_index is not None:
            await self.redis.sadd(k.advanced, f"{int(round_index)}:{bidder}")
        await self.redis.hset(k.bidders, bidder, _check_id("paddle", paddle))

    async def restore_idempotency_keys(
        self, auction_id: object, keys: Iterable[tuple[object, str]]
    ) -> None:
        """Remember (bidder, Idempotency-Key) pairs the durable trail holds, when rebuilding
        a lost auction: a retry with such a key is then refused as idempotency_key_reused
        (the caller answers it from the trail) instead of being placed a second time."""
        fields = [f"{_check_id('bidder_id', bidder)}:{key}" for bidder, key in keys]
        if not fields:
            return
        idem = self.keys(auction_id).idem
        marker = json.dumps(["restored-from-trail", []])
        for start in range(0, len(fields), 500):
            chunk = fields[start:start + 500]
            present = await self.redis.hmget(idem, chunk)
            missing = {f: marker for f, v in zip(chunk, present, strict=True) if v is None}
            if missing:
                await self.redis.hset(idem, mapping=missing)

    async def place_bid(
        self,
        auction_id: object,
        *,
        bidder_id: object,
        amount: int | None = None,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        max_amount: int | None = None,
        channel: str = "online",
        clerk_id: object | None = None,
    ) -> BidResult:
        """Decide one bid atomically in Redis (idempotent per bidder and key).

        english: amount, or max_amount for a proxy bid (a secret maximum the engine bids
        from); sealed: amount (replaces the bidder's earlier sealed bid); dutch: amount is
        optional, the most the bidder will pay; the bid takes the lot at the clock price.
        A request the kind cannot take (no amount in english, a proxy in sealed) raises
        ValueError. channel (online, absentee, floor) and a floor bid's clerk go into the trail.
        """
        _check_money("amount", amount)
        _check_money("max_amount", max_amount)
        if amount is not None and max_amount is not None:
            raise ValueError("give amount or max_amount, not both")
        if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
            raise ValueError("idempotency_key must have 1..255 characters")
        if fingerprint is None and idempotency_key is not None:  # only a key's replay needs it
            body: dict[str, Any] = {"amount": amount}
            if max_amount is not None:
                body["max_amount"] = max_amount
            if channel != "online":  # a key the clerk used is not the bidder's online request
                body["channel"] = channel
            fingerprint = fingerprint_of(body)
        k = self.keys(auction_id)
        args = [_check_id("bidder_id", bidder_id), _arg(amount), idempotency_key or "",
                fingerprint or "", _arg(max_amount), _check_id("channel", channel),
                "" if clerk_id is None else _check_id("clerk_id", clerk_id)]
        keys = [k.state, k.bidders, k.idem, k.events, k.bids, k.advanced, k.private]
        result = bid_result(await self._run(self._bid, keys, args))
        if isinstance(result, BidAccepted) and result.closed:
            await self.schedule_deadline(auction_id, result.placed_at_ms)  # finalise now
        return result

    async def close_round(self, auction_id: object) -> CloseResult:
        """Close the round if due; not_due carries the current ends_at for rescheduling."""
        k = self.keys(auction_id)
        keys = [k.state, k.events, k.bids, k.bidders, k.advanced]
        return close_result(await self._run(self._close, keys, []))

    async def read(self, auction_id: object) -> Snapshot | None:
        """Spec, state and server time read atomically; None when no round was opened.

        The snapshot is the whole truth; show others ``snapshot.public()``."""
        k = self.keys(auction_id)
        return _snapshot(*await self._run(self._read, [k.state, k.bids], []))

    async def read_many(self, auction_ids: Sequence[object]) -> tuple[int, list[Snapshot | None]]:
        """The server time and each auction's snapshot (as read()), in one round trip: a
        pipeline, not a transaction (a cluster client splits it by slot, and blocks TIME in
        a pipeline: there the time is read first, apart)."""
        single = isinstance(self.redis, Redis)
        clock = None if single else await self.redis.time()
        async with self._in_flight, self.redis.pipeline(transaction=False) as pipe:
            if single:
                pipe.time()
            for auction_id in auction_ids:
                k = self.keys(auction_id)
                await self._read(keys=[k.state, k.bids], args=[], client=pipe)
            try:
                replies = await pipe.execute()
                seconds, micros, *replies = _flat_time([clock, *replies] if clock else replies)
            except ResponseError as exc:  # NOSCRIPT: a cluster pipeline loads no script
                if not isinstance(exc, NoScriptError) and "NOSCRIPT" not in str(exc):
                    raise
                return await self.server_time_ms(), [await self.read(a) for a in auction_ids]
        return int(seconds) * 1000 + int(micros) // 1000, [_snapshot(*r) for r in replies]

    async def schedule_deadline(self, auction_id: object, ends_at_ms: int) -> None:
        """Record (or move) when the worker should next try to close this auction."""
        await self.redis.zadd(self.deadlines_key, {_check_id("auction_id", auction_id): ends_at_ms})

    async def unschedule_deadline(self, auction_id: object) -> None:
        """Forget the deadline of an auction whose last round is closed."""
        await self.redis.zrem(self.deadlines_key, _check_id("auction_id", auction_id))

    async def due_auctions(self, now_ms: int, limit: int = 100) -> list[str]:
        """Auction ids whose recorded deadline is at or before now_ms, earliest first."""
        ids = await self.redis.zrangebyscore(self.deadlines_key, "-inf", now_ms, start=0, num=limit)
        return [as_text(i) for i in ids]

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

    async def bid_entries_newest_first(
        self, auction_id: object, *, sealed: bool, before: str | None, count: int
    ) -> list[Event]:
        """Bid entries of the auction's public stream (or, sealed, its private one), newest
        first, strictly before the entry id ``before`` (None = from the newest)."""
        k = self.keys(auction_id)
        upper = "+" if before is None else f"({before}"
        rows = await self.redis.xrevrange(k.private if sealed else k.events, max=upper, min="-",
                                          count=count)
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
    kind_of(spec.kind).check_restore(spec, state)
    if (state.leader is None) != (state.current_price is None) or (
        state.leader is not None and not leader_paddle
    ):
        raise ValueError("a restored leader needs a current price and a paddle, and vice versa")
    if state.proxy_max is not None and (
        state.current_price is None or not state.current_price < state.proxy_max <= MAX_AMOUNT
    ):
        raise ValueError("a restored proxy maximum must lie above the leader's current price")
    if len({b.bidder for b in state.bids}) != len(state.bids):
        raise ValueError("one standing bid per bidder")
    for bid in state.bids:
        _check_id("bidder_id", bid.bidder)
        _check_money("standing bid", bid.amount)
        if not 0 < bid.seq <= state.seq:
            raise ValueError("a standing bid's seq must lie in 1..state.seq")


def _snapshot(now: Any, flat: Sequence[Any], bids: Sequence[Any]) -> Snapshot | None:
    """A read_state.lua reply as a Snapshot; None when no round was opened."""
    h = _pairs(flat)
    if not h:
        return None
    close = close_from_state(h, now) if h.get("closed") == "1" else None
    return Snapshot(spec_from(h), state_from(h, _pairs(bids)), int(as_text(now)), int(h["round"]),
                    h.get("final") == "1", h.get("leader_paddle") or None, close,
                    int(h["paused_at_ms"]) if h.get("paused_at_ms") else None)


def _flat_time(replies: list[Any]) -> list[Any]:
    """A pipeline's replies with its leading TIME reply (a pair) spread into two items."""
    seconds, micros = replies[0]
    return [seconds, micros, *replies[1:]]


def _stream_rows(reply: Any) -> list[Any]:
    """The entries of a one-stream XREAD reply (RESP2 list or RESP3 dict)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        (entries,) = reply.values()
        return list(entries[0] if entries and isinstance(entries[0], list) else entries)
    return list(reply[0][1])


def _event(entry_id: Any, fields: Mapping[Any, Any]) -> Event:
    decoded = {as_text(k): as_text(v) for k, v in fields.items()}
    return Event(as_text(entry_id), decoded.get("type", ""), decoded)
