"""Live events of an auction as Server-Sent Events, fanned out by the feed hub (app.feed)."""

import json

from fastapi import Request

from app.auctions.engine import Engine, Event
from app.feed import FeedResponse, FeedSpec, Hub, parse_last_event_id
from app.money import from_minor
from app.schemas import format_money, format_timestamp, ms_to_datetime


def _money(units: str) -> str | None:
    return format_money(from_minor(int(units))) if units else None


def _time(ms: str) -> str | None:
    return format_timestamp(ms_to_datetime(int(ms))) if ms else None


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def event_payload(event: Event) -> dict:
    """The public JSON of one stream entry: money as strings, times as ISO 8601.

    Sealed bids never reach this stream (they go to the private one); a missing or new
    field never breaks the payload."""
    f = event.fields
    if event.type == "bid":
        return {"sequence": _int(f.get("seq")), "round": _int(f.get("round")),
                "amount": _money(f.get("amount", "")), "paddle": f.get("paddle") or None,
                "placed_at": _time(f.get("placed_at_ms", "")),
                "ends_at": _time(f.get("ends_at_ms", ""))}
    if event.type == "extended":
        return {"sequence": _int(f.get("seq")), "ends_at": _time(f.get("ends_at_ms", ""))}
    if event.type in ("round_closed", "closed"):
        payload = {"round": _int(f.get("round")), "outcome": f.get("outcome") or None,
                   "winning_paddle": f.get("paddle") or None,
                   "hammer_price": _money(f.get("price", "")),
                   "closed_at": _time(f.get("closed_at_ms", ""))}
        if event.type == "round_closed":
            payload |= {"kind": f.get("kind") or None, "bid_count": _int(f.get("bid_count")),
                        "ends_at": _time(f.get("ends_at_ms", ""))}
            if "advanced" in f:
                payload |= {"advanced_paddles": [p for p in f["advanced"].split(",") if p],
                            "best_bid": _money(f.get("best", ""))}
        return payload
    if event.type == "paused":  # its session paused: the round's clock stopped
        return {"round": _int(f.get("round")), "paused_at": _time(f.get("paused_at_ms", "")),
                "ends_at": _time(f.get("ends_at_ms", "")), "remaining_ms": _int(f.get("remaining_ms"))}
    if event.type == "resumed":  # the round's close moved by the pause's length
        return {"round": _int(f.get("round")), "resumed_at": _time(f.get("resumed_at_ms", "")),
                "ends_at": _time(f.get("ends_at_ms", "")), "paused_ms": _int(f.get("paused_ms"))}
    return {}


def encode_event(entry_id: str, kind: str, fields: dict[str, str]) -> bytes:
    """One stream entry as Server-Sent Event bytes (encoded once, sent to every watcher)."""
    # json.dumps' default separators: the stream's data lines are byte for byte what they were
    data = json.dumps(event_payload(Event(entry_id, kind, fields)))
    return f"id: {entry_id}\nevent: {kind}\ndata: {data}\n\n".encode()


# An auction's public stream ends with `closed` (close_round.lua writes it after the last round).
AUCTION_FEED = FeedSpec(encode=encode_event, terminal=frozenset({"closed"}))


async def subscribe(
    request: Request, *, engine: Engine, auction_id: int, last_event_id: str | None
) -> FeedResponse:
    """The auction's events after Last-Event-ID (422 if malformed), then live until `closed`."""
    after = parse_last_event_id(last_event_id)
    hub: Hub = request.app.state.feed
    client = request.client.host if request.client else "unknown"
    sub = await hub.subscribe(engine.keys(auction_id).events, AUCTION_FEED, after=after,
                              client=client)
    return FeedResponse(hub, sub)
