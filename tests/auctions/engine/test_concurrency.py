"""100 bidders at once, per kind, through the Engine (single Redis and cluster).

What Redis did is replayed through rules.py at the clock the script used, in sequence order,
and the invariants of each kind are checked: one winner, the right price, a complete trail,
and for sealed rounds nothing about the bids visible to anyone before the close.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from app.auctions.domain.rules import (
    Outcome,
    RoundSpec,
    RoundState,
    decide_bid,
    dutch_price,
    round_outcome,
)
from app.auctions.engine import BidAccepted, BidRejected, BidResult, Engine
from tests.auctions.domain.cases import QUALIFIED
from tests.auctions.engine.helpers import AID, assert_agrees, leaked, wait_until

N = 100

Request = tuple[str, int | None, int | None, BidResult]  # bidder, amount, max_amount, reply
Plan = list[tuple[int | None, int | None]]  # one bidder's (amount, max_amount) in order


@contextmanager
def crowd(n: int = N) -> Iterator[dict[str, str]]:
    """n extra qualified bidders (registered in the shared QUALIFIED table meanwhile)."""
    bidders = {f"b{i}": f"{5000 + i}" for i in range(n)}
    QUALIFIED.update(bidders)
    try:
        yield bidders
    finally:
        for bidder in bidders:
            QUALIFIED.pop(bidder)


async def open_crowd(engine: Engine, spec: RoundSpec, bidders: dict[str, str]) -> None:
    for bidder, paddle in bidders.items():
        await engine.qualify(AID, bidder, paddle)
    assert (await engine.open_round(AID, spec, 1)).initialised


def replay(spec: RoundSpec, requests: list[Request]) -> RoundState:
    """Check every reply against the rules at its seq and clock; the final state."""
    accepted = sorted((r for r in requests if isinstance(r[3], BidAccepted)),
                      key=lambda r: r[3].placed[0].seq)  # type: ignore[union-attr]
    state = RoundState.initial(spec)
    states = {0: state}
    for bidder, amount, top, reply in accepted:
        assert reply.placed[0].seq == state.seq + 1  # type: ignore[union-attr]
        decision = decide_bid(spec, state, bidder=bidder, amount=amount, max_amount=top,
                              now_ms=reply.placed_at_ms)  # type: ignore[union-attr]
        assert_agrees(reply, decision, state, bidder, spec.kind)
        state = decision.state  # type: ignore[union-attr]
        states[state.seq] = state
    for bidder, amount, top, reply in requests:
        if isinstance(reply, BidRejected):
            before = states[reply.seq] if not spec.kind.startswith("sealed") else None
            if before is not None:
                decision = decide_bid(spec, before, bidder=bidder, amount=amount, max_amount=top,
                                      now_ms=reply.decided_at_ms)
                assert_agrees(reply, decision, before, bidder, spec.kind)
    return state


async def bid_all(engine: Engine, plans: list[tuple[str, Plan]]) -> list[Request]:
    """Every bidder's requests in order, all bidders at once."""
    async def one(bidder: str, plan: Plan) -> list[Request]:
        return [(bidder, a, m, await engine.place_bid(AID, bidder_id=bidder, amount=a, max_amount=m))
                for a, m in plan]
    batches = await asyncio.gather(*(one(b, plan) for b, plan in plans))
    return [r for batch in batches for r in batch]


async def test_proxies_at_once(engine: Engine) -> None:
    now = await engine.server_time_ms()
    spec = RoundSpec("english", now - 1_000, now + 60_000, 10_000, 100)
    rng = random.Random(11)
    with crowd() as bidders:
        await open_crowd(engine, spec, bidders)
        maxima = dict(zip(bidders, rng.sample(range(10_000, 1_000_000, 7), N), strict=True))
        requests = await bid_all(engine, [(b, [(None, m)]) for b, m in maxima.items()])
        final = replay(spec, requests)
        admitted = sorted((m for b, a, m, r in requests if r.ok), reverse=True)
        winner = max(maxima, key=maxima.__getitem__)
        assert final.leader == winner and maxima[winner] == admitted[0]
        assert final.current_price == min(admitted[0], admitted[1] + spec.increment)
        events = await engine.events_since(AID, count=10_000)
        trail = sorted((p for _, _, _, r in requests if r.ok for p in r.placed),  # type: ignore[union-attr]
                       key=lambda p: p.seq)
        assert [(int(e.fields["seq"]), int(e.fields["amount"]), e.fields["paddle"]) for e in events
                if e.type == "bid"] == [(p.seq, p.amount, p.paddle) for p in trail]
        assert not any(leaked(e.fields, maxima[winner]) for e in events)
        snap = await engine.read(AID)
        assert snap is not None and snap.state == final and snap.public().state.proxy_max is None


@pytest.mark.parametrize("kind", ["sealed_first_price", "sealed_second_price"])
async def test_sealed_at_once(engine: Engine, kind: str) -> None:
    now = await engine.server_time_ms()
    spec = RoundSpec(kind, now - 1_000, now + 2_500, 10_000, 100, reserve=20_000)
    rng = random.Random(kind)
    with crowd() as bidders:
        await open_crowd(engine, spec, bidders)
        plans = [(b, [(rng.randint(9_000, 900_000), None) for _ in range(rng.randint(1, 2))])
                 for b in bidders]
        watching = asyncio.Event()

        async def watch() -> int:
            """An observer polling what the public may see while the bids come in."""
            looks = 0
            while not watching.is_set():
                assert await engine.events_since(AID) == []
                snap = await engine.read(AID)
                assert snap is not None and snap.sealed
                public = snap.public()
                assert (public.state.current_price, public.state.leader, public.state.bid_count,
                        public.state.seq, public.state.bids, public.leader_paddle) == (
                    None, None, 0, 0, (), None)
                looks += 1
                await asyncio.sleep(0.005)
            return looks

        watcher = asyncio.create_task(watch())
        requests = await bid_all(engine, plans)
        watching.set()
        assert await watcher > 0
        for bidder, amount, _, reply in requests:  # a bidder hears of his own bid only
            if isinstance(reply, BidAccepted):
                assert reply.sealed and [(p.bidder, p.amount) for p in reply.placed] == [(bidder, amount)]
            else:
                assert (reply.code, reply.seq) == ("bid_too_low", 0) and amount < spec.starting_price
        final = replay(spec, requests)
        standing = {}
        for bidder, amount, _, reply in sorted((r for r in requests if r[3].ok),
                                               key=lambda r: r[3].seq):  # type: ignore[union-attr]
            standing[bidder] = (amount, reply.seq)  # type: ignore[union-attr]
        ranked = sorted(standing.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        best, second = ranked[0][1][0], ranked[1][1][0]
        price = best if kind == "sealed_first_price" else max(second, spec.reserve)  # type: ignore[type-var]
        await wait_until(engine, spec.ends_at_ms)
        result = await engine.close_round(AID)
        assert result.outcome == round_outcome(spec, final) == Outcome(True, ranked[0][0], price)
        assert [e.type for e in await engine.events_since(AID)] == ["round_closed", "closed"]


async def test_dutch_at_once(engine: Engine) -> None:
    now = await engine.server_time_ms()
    spec = RoundSpec("dutch", now - 25_000, now + 60_000, 100_000, 1, step=1_000,
                     interval_ms=10_000, floor=50_000)
    with crowd() as bidders:
        await open_crowd(engine, spec, bidders)
        requests = await bid_all(engine, [(b, [(None, None)]) for b in bidders])
        replay(spec, requests)
        won = [r for *_, r in requests if isinstance(r, BidAccepted)]
        assert len(won) == 1 and won[0].closed
        assert won[0].amount == dutch_price(spec, won[0].placed_at_ms)
        lost = [r for *_, r in requests if isinstance(r, BidRejected)]
        assert len(lost) == N - 1 and {r.code for r in lost} == {"auction_closed"}
        assert all(r.decided_at_ms >= won[0].placed_at_ms for r in lost)
        result = await engine.close_round(AID)
        assert result.status == "already_closed"
        assert result.outcome == Outcome(True, next(b for b, *_, r in requests if r.ok), won[0].amount)
        types = [e.type for e in await engine.events_since(AID)]
        assert types == ["bid", "round_closed", "closed"]


async def test_english_plain_and_proxy_mix_at_once(engine: Engine) -> None:
    now = await engine.server_time_ms()
    spec = RoundSpec("english", now - 1_000, now + 1_500, 10_000, 100, window_ms=10_000,
                     extension_ms=2_000, hard_close_ms=now + 2_500)
    rng = random.Random(5)
    with crowd() as bidders:
        await open_crowd(engine, spec, bidders)
        plans = []
        for b in bidders:
            values = sorted(rng.sample(range(10_000, 400_000, 50), 3))
            plans.append((b, [(v, None) if rng.random() < 0.5 else (None, v) for v in values]))
        requests = await bid_all(engine, plans)
        final = replay(spec, requests)
        trail = sorted((p for *_, r in requests if r.ok for p in r.placed),  # type: ignore[union-attr]
                       key=lambda p: p.seq)
        assert [p.seq for p in trail] == list(range(1, final.seq + 1))
        assert all(a.amount <= b.amount for a, b in itertools.pairwise(trail))
        assert (trail[-1].bidder, trail[-1].amount) == (final.leader, final.current_price)
        assert spec.ends_at_ms <= final.ends_at_ms <= spec.hard_close_ms  # type: ignore[operator]
        if final.proxy_max is not None:
            events = await engine.events_since(AID, count=10_000)
            assert not any(leaked(e.fields, final.proxy_max) for e in events)
