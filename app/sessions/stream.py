"""The session-wide event stream: lot_opened, lot_closed (with its outcome), session_paused,
session_resumed, session_finished, session_cancelled, in a Redis stream of the session.

Written by the code that changes the state (pause, resume, withdraw, the closer's finalise,
the finish, the worker that sees a lot open), through one script that records each event's
dedup name beside the stream: emitting before the commit and again after a crash (or from a
second worker) leaves the event in the stream exactly once. Every key of one session shares
the hash tag {session:<id>} (Redis Cluster safe). Served by the feed hub (app.feed) as
`GET /sessions/{id}/events`, like an auction's stream."""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import Request

from app.auctions.engine import Engine
from app.feed import FeedResponse, FeedSpec, Hub, parse_last_event_id
from app.money import from_minor
from app.redis import as_text
from app.schemas import format_money, format_timestamp, ms_to_datetime

_SCRIPT = (Path(__file__).with_name("lua") / "emit_event.lua").read_text(encoding="utf-8")
TERMINAL = frozenset({"session_finished", "session_cancelled"})
_INTS = ("auction_id", "lot_number", "paused_ms")
_TIMES = {"at_ms": "at", "opens_at_ms": "opens_at", "ends_at_ms": "ends_at",
          "closed_at_ms": "closed_at"}


@dataclass(frozen=True, slots=True)
class SessionKeys:
    events: str
    emitted: str


def keys(engine: Engine, session_id: int) -> SessionKeys:
    """The session's stream and its dedup hash, in the hash slot of {session:<id>}."""
    base = f"{engine.prefix}:{{session:{int(session_id)}}}"
    return SessionKeys(f"{base}:events", f"{base}:emitted")


async def emit(engine: Engine, *, session_id: int, name: str, type: str,
               **fields: str | int | None) -> str:
    """Append the event unless one of this dedup name is there; its entry id either way."""
    k = keys(engine, session_id)
    script = _script(engine.redis)
    flat = [str(v) for pair in fields.items() if pair[1] is not None for v in pair]
    _, entry_id = await script(keys=[k.events, k.emitted], args=[name, type, *flat])
    return as_text(entry_id)


@lru_cache(maxsize=8)
def _script(redis: object):
    """The emit script registered on this client (run by EVALSHA)."""
    return redis.register_script(_SCRIPT)  # type: ignore[attr-defined]


def payload(kind: str, fields: dict[str, str]) -> dict:
    """The public JSON of one session event: ids as numbers, times ISO 8601, money strings."""
    out: dict[str, object] = {}
    for name, value in fields.items():
        if name == "type" or value == "":
            continue
        if name in _INTS:
            out[name] = int(value)
        elif name in _TIMES:
            out[_TIMES[name]] = format_timestamp(ms_to_datetime(int(value)))
        elif name == "hammer_price":
            out[name] = format_money(from_minor(int(value)))
        else:
            out[name] = value
    return out


def encode(entry_id: str, kind: str, fields: dict[str, str]) -> bytes:
    """One session event as Server-Sent Event bytes (encoded once for every watcher)."""
    return f"id: {entry_id}\nevent: {kind}\ndata: {json.dumps(payload(kind, fields))}\n\n".encode()


SESSION_FEED = FeedSpec(encode=encode, terminal=TERMINAL)


async def subscribe(request: Request, *, engine: Engine, session_id: int,
                    last_event_id: str | None) -> FeedResponse:
    """The session's events after Last-Event-ID (422 if malformed), live until it ends."""
    after = parse_last_event_id(last_event_id)
    hub: Hub = request.app.state.feed
    client = request.client.host if request.client else "unknown"
    sub = await hub.subscribe(keys(engine, session_id).events, SESSION_FEED, after=after, client=client)
    return FeedResponse(hub, sub)
