"""Live events of an auction as Server-Sent Events, read from its Redis stream."""

import json
from collections.abc import AsyncIterator

from fastapi import Request

from app.auctions.engine import Engine, Event
from app.money import from_minor
from app.schemas import format_money, format_timestamp, ms_to_datetime

BLOCK_MS = 5_000
BATCH = 200


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
    return {}


async def event_stream(
    request: Request, *, engine: Engine, auction_id: int, last_id: str | None
) -> AsyncIterator[dict]:
    """Everything after last_id, then new events as they come; ends after `closed`.

    A client resuming after `closed` (EventSource reconnects when a stream ends) gets an empty
    stream that ends at once instead of one that waits forever.
    """
    cursor = last_id or "0-0"
    while not await request.is_disconnected():
        # Checked before reading: once the round is closed, `closed` is already in the stream.
        finished = await _finished(engine, auction_id)
        events = await engine.events_since(
            auction_id, cursor, count=BATCH, block_ms=None if finished else BLOCK_MS
        )
        for event in events:
            cursor = event.id
            yield {"id": event.id, "event": event.type, "data": json.dumps(event_payload(event))}
            if event.type == "closed":
                return
        if finished and not events:
            return


async def _finished(engine: Engine, auction_id: int) -> bool:
    """True once the last round is closed (close_round.lua wrote `closed` in the same step)."""
    snap = await engine.read(auction_id)
    return snap is not None and snap.state.closed and snap.final
