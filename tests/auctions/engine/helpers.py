"""Helpers of the engine tests: the auction they bid on, the check that a script's reply says
what the rules decided, and the Redis clock."""

from __future__ import annotations

import asyncio

from app.auctions.domain.rules import Decision, Rejected, RoundState
from app.auctions.engine import BidAccepted, BidRejected, BidResult, Engine
from tests.auctions.domain.cases import QUALIFIED

AID = "a1"


async def qualify_all(engine: Engine, auction_id: str = AID) -> None:
    for bidder, paddle in QUALIFIED.items():
        await engine.qualify(auction_id, bidder, paddle)


def decided_at(reply: BidResult) -> int:
    return reply.placed_at_ms if isinstance(reply, BidAccepted) else reply.decided_at_ms


def assert_agrees(
    reply: BidResult, decision: Decision, before: RoundState, bidder: str, kind: str = "english"
) -> None:
    """The script's reply says exactly what the rules decided."""
    if isinstance(decision, Rejected):
        assert isinstance(reply, BidRejected), reply
        seq = 0 if kind.startswith("sealed") else before.seq  # sealed: nothing to count
        assert (reply.code, reply.seq, reply.ends_at_ms) == (decision.code, seq, before.ends_at_ms)
        return
    assert isinstance(reply, BidAccepted), (reply, decision)
    assert (reply.seq, reply.amount, reply.ends_at_ms, reply.extended, reply.paddle) == (
        decision.seq, decision.amount, decision.ends_at_ms, decision.extended, QUALIFIED[bidder])
    assert (reply.kind, reply.outbid, reply.closed) == (kind, decision.outbid, decision.state.closed)
    assert reply.proxy_max == decision.state.proxy_max
    assert [(p.bidder, p.paddle, p.seq, p.amount, p.ends_at_ms, p.extended, p.by_proxy)
            for p in reply.placed] == [
        (p.bidder, QUALIFIED[p.bidder], p.seq, p.amount, p.ends_at_ms, p.extended, p.by_proxy)
        for p in decision.placed]
    assert reply.event_id == next(p.event_id for p in reply.placed if p.seq == reply.seq)


async def wait_until(engine: Engine, at_ms: int) -> None:
    """Sleep until the Redis clock reaches at_ms."""
    for _ in range(1_000):
        now = await engine.server_time_ms()
        if now >= at_ms:
            return
        await asyncio.sleep((at_ms - now) / 1000 + 0.005)
    raise TimeoutError(at_ms)


def leaked(fields: dict[str, str], *secrets: int) -> bool:
    return any(str(s) in value for value in fields.values() for s in secrets)
