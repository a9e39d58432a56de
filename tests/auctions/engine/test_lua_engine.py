"""The Lua scripts through Engine, on a single Redis and on a Redis Cluster.

The shared case table must give the same answers as rules.py; concurrency and close races
are checked by replaying what Redis did through rules.py at the clock the scripts used.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import replace

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from app.auctions.domain.rules import (
    Accepted,
    Outcome,
    RoundSpec,
    RoundState,
    UnsupportedRoundKind,
    decide_bid,
    round_outcome,
)
from app.auctions.engine import BidAccepted, BidRejected, BidResult, Engine
from tests.auctions.domain.cases import (
    QUALIFIED,
    Case,
    OutcomeCase,
    apply_prior,
    decide,
    prior_state,
    spec_for,
)
from tests.auctions.domain.cases_kinds import ALL_CASES, ALL_OUTCOME_CASES, expected_placed, outcome_spec
from tests.auctions.engine.helpers import AID, assert_agrees, decided_at, qualify_all

# A dutch bid closes its round on the spot: those outcomes are checked live (test_lua_kinds).
LUA_OUTCOME_CASES = [c for c in ALL_OUTCOME_CASES if not (c.kind == "dutch" and c.prior)]

async def open_restored(engine: Engine, spec: RoundSpec, state: RoundState) -> None:
    """Open the round with a given state already reached (as a rebuild from SQL would)."""
    paddle = QUALIFIED[state.leader] if state.leader else None
    result = await engine.open_round(AID, spec, 1, restore=state, leader_paddle=paddle)
    assert result.initialised


async def install(engine: Engine, spec: RoundSpec, state: RoundState) -> None:
    """Open the round in the given state: restored, or for a closed one (no rebuild takes
    those) opened fresh and then written field by field."""
    if not state.closed:
        await open_restored(engine, spec, state)
        return
    assert (await engine.open_round(AID, spec, 1)).initialised
    k = engine.keys(AID)
    leader = state.leader or ""
    await engine.redis.hset(k.state, mapping={
        "closed": "1", "ends_at_ms": state.ends_at_ms, "seq": state.seq,
        "current_price": "" if state.current_price is None else state.current_price,
        "leader": leader, "leader_paddle": QUALIFIED.get(leader, ""),
        "bid_count": state.bid_count, "proxy_max": state.proxy_max or "",
    })
    for b in state.bids:
        await engine.redis.hset(k.bids, b.bidder, f"{b.amount}:{b.seq}")


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
async def test_case_table_in_lua(engine: Engine, case: Case) -> None:
    origin = await engine.server_time_ms()
    spec = spec_for(case, origin)
    before = prior_state(case, spec, origin)
    await qualify_all(engine)
    await install(engine, spec, before)
    bid = case.bid
    reply = await engine.place_bid(AID, bidder_id=bid.bidder, amount=bid.amount,
                                   max_amount=bid.max_amount)
    at = decided_at(reply)
    # the rules at the script's clock
    decision = decide(spec, before, bid.bidder, bid.amount, at, bid.max_amount)
    assert_agrees(reply, decision, before, bid.bidder, spec.kind)
    snapshot = await engine.read(AID)
    assert snapshot is not None and snapshot.spec == spec
    assert snapshot.state == (decision.state if isinstance(decision, Accepted) else before)
    if case.exact:
        return
    delay = at - origin
    assert 0 <= delay < 1_000
    assert reply.code == case.expect
    if isinstance(reply, BidAccepted):
        assert reply.extended == case.expect_extended
        assert [(p.bidder, p.amount) for p in reply.placed] == expected_placed(case)
        expected = before.ends_at_ms - origin if case.expect_ends is None else case.expect_ends
        assert expected <= reply.ends_at_ms - origin <= expected + delay


@pytest.mark.parametrize("case", LUA_OUTCOME_CASES, ids=str)
async def test_outcome_table_in_lua(engine: Engine, case: OutcomeCase) -> None:
    origin = await engine.server_time_ms()
    spec = outcome_spec(case, origin)
    state = apply_prior(spec, case.prior, origin)
    await qualify_all(engine)
    await open_restored(engine, spec, state)
    first = await engine.close_round(AID)
    again = await engine.close_round(AID)
    assert first.status == "closed" and again.status == "already_closed"
    assert first.outcome == again.outcome == round_outcome(spec, state)
    assert first.outcome == Outcome(case.sold, case.winner, case.price)
    assert first.winner_paddle == (QUALIFIED[case.winner] if case.winner else None)
    assert first.closed_at_ms == again.closed_at_ms
    types = [e.type for e in await engine.events_since(AID)]
    assert types == ["round_closed", "closed"]
    snapshot = await engine.read(AID)
    assert snapshot is not None and snapshot.status == "closed" and snapshot.close is not None
    assert replace(snapshot.close, now_ms=again.now_ms) == again


async def open_now(engine: Engine, **overrides: int | None) -> RoundSpec:
    """Open round 1 of AID around the server clock and qualify the usual bidders."""
    now = await engine.server_time_ms()
    fields: dict = {"starts_at_ms": now - 1_000, "ends_at_ms": now + 60_000,
                    "starting_price": 10_000, "increment": 500, **overrides}
    spec = RoundSpec("english", **fields)
    await qualify_all(engine)
    assert (await engine.open_round(AID, spec, 1)).initialised
    return spec


# --- idempotency ---------------------------------------------------------------------------


async def test_same_key_and_body_returns_the_first_reply(engine: Engine) -> None:
    await open_now(engine)
    first = await engine.place_bid(AID, bidder_id="alice", amount=10_000, idempotency_key="k1")
    again = await engine.place_bid(AID, bidder_id="alice", amount=10_000, idempotency_key="k1")
    assert isinstance(first, BidAccepted) and again == first
    assert [e.type for e in await engine.events_since(AID)] == ["bid"]


async def test_same_key_other_body_is_refused(engine: Engine) -> None:
    await open_now(engine)
    await engine.place_bid(AID, bidder_id="alice", amount=10_000, idempotency_key="k1")
    other = await engine.place_bid(AID, bidder_id="alice", amount=20_000, idempotency_key="k1")
    assert isinstance(other, BidRejected) and other.code == "idempotency_key_reused"
    snapshot = await engine.read(AID)
    assert snapshot is not None and snapshot.state.current_price == 10_000


async def test_explicit_fingerprint_decides_sameness(engine: Engine) -> None:
    await open_now(engine)
    first = await engine.place_bid(AID, bidder_id="alice", amount=10_000,
                                   idempotency_key="k", fingerprint="f1")
    reused = await engine.place_bid(AID, bidder_id="alice", amount=10_000,
                                    idempotency_key="k", fingerprint="f2")
    assert isinstance(first, BidAccepted)
    assert isinstance(reused, BidRejected) and reused.code == "idempotency_key_reused"


async def test_keys_are_per_bidder(engine: Engine) -> None:
    await open_now(engine)
    alice = await engine.place_bid(AID, bidder_id="alice", amount=10_000, idempotency_key="k")
    bob = await engine.place_bid(AID, bidder_id="bob", amount=10_500, idempotency_key="k")
    assert isinstance(alice, BidAccepted) and isinstance(bob, BidAccepted)
    assert (alice.seq, bob.seq) == (1, 2)


async def test_a_stored_rejection_is_replayed(engine: Engine) -> None:
    await open_now(engine)
    low = await engine.place_bid(AID, bidder_id="alice", amount=9_000, idempotency_key="k")
    assert isinstance(low, BidRejected) and low.code == "bid_too_low"
    await engine.place_bid(AID, bidder_id="bob", amount=10_000)
    assert await engine.place_bid(AID, bidder_id="alice", amount=9_000,
                                  idempotency_key="k") == low


async def test_no_round_in_redis_is_not_a_final_answer(engine: Engine) -> None:
    """Against a Redis that lost (or never had) the round, a keyed rejection is not stored:
    after the rebuild the same key is decided afresh."""
    lost = await engine.place_bid(AID, bidder_id="alice", amount=10_000, idempotency_key="k")
    assert isinstance(lost, BidRejected) and lost.code == "not_qualified" and lost.unloaded
    await engine.qualify(AID, "alice", "101")
    unopened = await engine.place_bid(AID, bidder_id="alice", amount=10_000, idempotency_key="k")
    assert isinstance(unopened, BidRejected) and unopened.code == "auction_not_open"
    assert unopened.unloaded
    await open_now(engine)
    stranger = await engine.place_bid(AID, bidder_id="mallory", amount=10_000)
    assert isinstance(stranger, BidRejected) and stranger.code == "not_qualified"
    assert not stranger.unloaded  # a loaded round's refusal is final
    rebuilt = await engine.place_bid(AID, bidder_id="alice", amount=10_000, idempotency_key="k")
    assert isinstance(rebuilt, BidAccepted)
    assert await engine.place_bid(AID, bidder_id="alice", amount=10_000,
                                  idempotency_key="k") == rebuilt


async def test_without_key_every_request_is_decided(engine: Engine) -> None:
    await open_now(engine)
    assert isinstance(await engine.place_bid(AID, bidder_id="alice", amount=10_000), BidAccepted)
    again = await engine.place_bid(AID, bidder_id="alice", amount=10_000)
    assert isinstance(again, BidRejected) and again.code == "already_leading"


# --- rounds, reads, refusals ---------------------------------------------------------------


async def test_nothing_opened(engine: Engine) -> None:
    await qualify_all(engine)
    reply = await engine.place_bid(AID, bidder_id="alice", amount=10_000)
    assert isinstance(reply, BidRejected) and reply.code == "auction_not_open"
    assert (await engine.close_round(AID)).status == "no_round"
    assert await engine.read(AID) is None


async def test_open_round_is_idempotent_and_ordered(engine: Engine) -> None:
    spec = await open_now(engine)
    assert (await engine.open_round(AID, spec, 1)).status == "exists"
    assert (await engine.open_round(AID, spec, 2)).status == "previous_round_open"
    assert (await engine.open_round(AID, spec, 0)).status == "stale"
    assert await engine.due_auctions(spec.ends_at_ms, 10) == [AID]
    assert await engine.due_auctions(spec.ends_at_ms - 1, 10) == []


async def test_next_round_after_close_keeps_sequence(engine: Engine) -> None:
    now = await engine.server_time_ms()
    first = RoundSpec("english", now - 2_000, now - 1, 10_000, 500)
    await qualify_all(engine)
    await open_restored(engine, first, RoundState(now - 1, 10_000, "alice", 1, 1))
    assert (await engine.close_round(AID)).status == "closed"
    second = replace(first, starts_at_ms=now - 1_000, ends_at_ms=now + 60_000, starting_price=1)
    assert (await engine.open_round(AID, second, 2)).initialised
    reply = await engine.place_bid(AID, bidder_id="alice", amount=5)
    assert isinstance(reply, BidAccepted) and reply.seq == 2
    snapshot = await engine.read(AID)
    assert snapshot is not None and snapshot.round_index == 2 and snapshot.status == "open"
    assert snapshot.close is None and snapshot.leader_paddle == QUALIFIED["alice"]


async def test_read_gives_server_time_and_status(engine: Engine) -> None:
    spec = await open_now(engine)
    snapshot = await engine.read(AID)
    assert snapshot is not None and snapshot.spec == spec and snapshot.status == "open"
    assert abs(snapshot.now_ms - await engine.server_time_ms()) < 1_000


async def test_unsupported_kind_in_redis_is_refused(engine: Engine) -> None:
    await open_now(engine)
    await engine.redis.hset(engine.keys(AID).state, "kind", "candle")
    with pytest.raises(UnsupportedRoundKind, match="candle"):
        await engine.place_bid(AID, bidder_id="alice", amount=10_000)
    await engine.redis.hset(engine.keys(AID).state, "ends_at_ms", "1")  # due: close decides
    with pytest.raises(UnsupportedRoundKind, match="candle"):
        await engine.close_round(AID)


@pytest.mark.parametrize(
    ("bidder", "amount"), [("alice", 0), ("alice", -5), ("alice", 10**15), ("a:b", 10_000)]
)
async def test_bad_input_is_refused_before_redis(engine: Engine, bidder: str, amount: int) -> None:
    with pytest.raises(ValueError):
        await engine.place_bid(AID, bidder_id=bidder, amount=amount)


def test_all_keys_of_an_auction_share_one_slot() -> None:
    layout = Engine(aioredis.Redis(), "ta").keys(42)
    assert layout.state == "ta:{auction:42}:state"
    keys = (layout.state, layout.bidders, layout.idem, layout.events, layout.bids,
            layout.advanced, layout.private)
    assert len(set(keys)) == 7 and len({key_slot(k.encode()) for k in keys}) == 1


# --- concurrency, closing, events, deadlines -----------------------------------------------


def replay(spec: RoundSpec, start: RoundState, results: list[tuple[str, int, BidResult]]) -> list:
    """Check every reply against the rules at its seq and clock; return the states by seq."""
    accepted = sorted((r for r in results if isinstance(r[2], BidAccepted)),
                      key=lambda r: r[2].seq)
    assert [r.seq for _, _, r in accepted] == list(range(1, len(accepted) + 1))
    states = [start]
    for bidder, amount, reply in accepted:
        decision = decide_bid(spec, states[-1], bidder=bidder, amount=amount,
                              now_ms=reply.placed_at_ms)
        assert_agrees(reply, decision, states[-1], bidder)
        states.append(decision.state)  # type: ignore[union-attr]
    for bidder, amount, reply in results:
        if isinstance(reply, BidRejected):
            before = states[reply.seq]
            decision = decide_bid(spec, before, bidder=bidder, amount=amount,
                                  now_ms=reply.decided_at_ms)
            assert_agrees(reply, decision, before, bidder)
    return states


async def test_concurrent_bids_are_linearizable(engine: Engine) -> None:
    now = await engine.server_time_ms()
    spec = RoundSpec("english", now - 1_000, now + 1_500, 10_000, 100, window_ms=10_000,
                     extension_ms=2_000, hard_close_ms=now + 2_500)
    bidders = {f"b{i}": f"{1000 + i}" for i in range(200)}
    for bidder, paddle in bidders.items():
        await engine.qualify(AID, bidder, paddle)
    QUALIFIED.update(bidders)
    try:
        assert (await engine.open_round(AID, spec, 1)).initialised
        rng = random.Random(7)
        plans = [(b, [10_000 + 100 * rng.randint(0, 300) for _ in range(3)]) for b in bidders]

        async def bid_all(bidder: str, amounts: list[int]) -> list[tuple[str, int, BidResult]]:
            return [(bidder, a, await engine.place_bid(AID, bidder_id=bidder, amount=a))
                    for a in amounts]

        batches = await asyncio.gather(*(bid_all(b, amounts) for b, amounts in plans))
        results = [r for batch in batches for r in batch]
        states = replay(spec, RoundState.initial(spec), results)
        final = states[-1]
        accepted = [r for _, _, r in results if isinstance(r, BidAccepted)]
        assert len(accepted) > 1 and final.current_price == max(r.amount for r in accepted)
        assert any(r.extended for r in accepted)
        assert final.ends_at_ms <= spec.hard_close_ms
        snapshot = await engine.read(AID)
        assert snapshot is not None and snapshot.state == final
        await check_event_trail(engine, spec, accepted)
    finally:
        for bidder in bidders:
            QUALIFIED.pop(bidder)


async def check_event_trail(engine: Engine, spec: RoundSpec, accepted: list) -> None:
    """The stream holds the accepted bids in seq order and one extended event per extension."""
    events = await engine.events_since(AID, count=10_000)
    bids = [e for e in events if e.type == "bid"]
    assert [int(e.fields["seq"]) for e in bids] == list(range(1, len(accepted) + 1))
    amounts = [int(e.fields["amount"]) for e in bids]
    assert all(b - a >= spec.increment for a, b in itertools.pairwise(amounts))
    extended = [int(e.fields["ends_at_ms"]) for e in events if e.type == "extended"]
    assert len(extended) == sum(r.extended for r in accepted)
    assert extended == sorted(set(extended))
    assert all(spec.ends_at_ms < t <= spec.hard_close_ms for t in extended)


async def test_racing_closers_close_once(engine: Engine) -> None:
    now = await engine.server_time_ms()
    spec = RoundSpec("english", now - 5_000, now - 1, 10_000, 500, reserve=10_000)
    await qualify_all(engine)
    await open_restored(engine, spec, RoundState(now - 1, 12_000, "bob", 3, 3))
    results = await asyncio.gather(*(engine.close_round(AID) for _ in range(10)))
    assert sorted(r.status for r in results) == ["already_closed"] * 9 + ["closed"]
    assert {r.outcome for r in results} == {Outcome(True, "bob", 12_000)}
    assert {r.winner_paddle for r in results} == {QUALIFIED["bob"]}
    types = [e.type for e in await engine.events_since(AID)]
    assert types.count("closed") == 1 and types.count("round_closed") == 1
    late = await engine.place_bid(AID, bidder_id="alice", amount=50_000)
    assert isinstance(late, BidRejected) and late.code == "auction_closed"


async def test_close_before_due_reports_the_deadline(engine: Engine) -> None:
    spec = await open_now(engine)
    result = await engine.close_round(AID)
    assert (result.status, result.ends_at_ms, result.outcome) == ("not_due", spec.ends_at_ms, None)
    assert await engine.events_since(AID) == []


async def test_extension_outruns_the_deadline_set(engine: Engine) -> None:
    now = await engine.server_time_ms()
    await open_now(engine, ends_at_ms=now + 300, window_ms=1_000, extension_ms=1_500)
    reply = await engine.place_bid(AID, bidder_id="alice", amount=10_000)
    assert isinstance(reply, BidAccepted) and reply.extended
    await asyncio.sleep(0.35)
    assert await engine.due_auctions(await engine.server_time_ms(), 10) == [AID]
    result = await engine.close_round(AID)
    assert (result.status, result.ends_at_ms) == ("not_due", reply.ends_at_ms)
    await engine.schedule_deadline(AID, result.ends_at_ms)
    assert await engine.due_auctions(await engine.server_time_ms(), 10) == []
    await engine.unschedule_deadline(AID)
    assert await engine.due_auctions(reply.ends_at_ms + 1, 10) == []


async def test_events_resume_after_an_id(engine: Engine) -> None:
    await open_now(engine)
    first = await engine.place_bid(AID, bidder_id="alice", amount=10_000)
    await engine.place_bid(AID, bidder_id="bob", amount=10_500)
    assert isinstance(first, BidAccepted)
    after = await engine.events_since(AID, first.event_id)
    assert [(e.type, e.fields["paddle"], e.fields["amount"]) for e in after] == [
        ("bid", QUALIFIED["bob"], "10500")]
    assert await engine.events_since(AID, after[-1].id, block_ms=50) == []
    waiter = asyncio.create_task(engine.events_since(AID, after[-1].id, block_ms=5_000))
    await asyncio.sleep(0.05)
    await engine.place_bid(AID, bidder_id="carol", amount=11_000)
    woken = await asyncio.wait_for(waiter, 5)
    assert [e.fields["seq"] for e in woken] == ["3"]
