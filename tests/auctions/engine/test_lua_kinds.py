"""Sealed, dutch, proxy and multi-round behaviour of the Lua engine that the case table does
not reach: secrecy, idempotency, closing, restricted rounds, restores (single and cluster)."""

from __future__ import annotations

import pytest

from app.auctions.domain.rules import (
    Advance,
    Outcome,
    RoundSpec,
    RoundState,
    StandingBid,
    dutch_price,
)
from app.auctions.engine import BidAccepted, BidRejected, Engine
from tests.auctions.domain.cases import QUALIFIED
from tests.auctions.engine.helpers import AID, leaked, qualify_all, wait_until


async def open_kind(engine: Engine, kind: str, *, ends_in: int = 60_000, index: int = 1,
                    final: bool = True, **fields: int | None) -> RoundSpec:
    now = await engine.server_time_ms()
    base: dict = {"starts_at_ms": now - 1_000, "ends_at_ms": now + ends_in,
                  "starting_price": 10_000, "increment": 500}
    if kind == "dutch":
        base |= {"starting_price": 100_000, "step": 1_000, "interval_ms": 10_000, "floor": 50_000,
                 "starts_at_ms": now - 25_000}
    spec = RoundSpec(kind, **(base | fields))
    await qualify_all(engine)
    assert (await engine.open_round(AID, spec, index, final=final)).initialised
    return spec


# --- sealed --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sealed_first_price", "sealed_second_price"])
async def test_sealed_bids_stay_hidden_until_close(engine: Engine, kind: str) -> None:
    spec = await open_kind(engine, kind, ends_in=800)
    plan = [("alice", 20_000), ("bob", 30_000), ("alice", 25_000), ("carol", 12_000)]
    replies = [await engine.place_bid(AID, bidder_id=b, amount=a) for b, a in plan]
    assert all(isinstance(r, BidAccepted) and r.sealed and not r.extended for r in replies)
    for (bidder, amount), r in zip(plan, replies, strict=True):
        assert (r.amount, r.paddle, r.outbid) == (amount, QUALIFIED[bidder], False)
        assert [(p.bidder, p.amount) for p in r.placed] == [(bidder, amount)]  # his own only
    low = await engine.place_bid(AID, bidder_id="dave", amount=9_999)
    assert isinstance(low, BidRejected) and (low.code, low.seq) == ("bid_too_low", 0)
    assert await engine.events_since(AID) == []  # nothing public: not even a count
    private = await engine.redis.xrange(engine.keys(AID).private)
    assert [int(f["amount"]) for _, f in private] == [a for _, a in plan]
    assert [r.event_id for r in replies] == [i for i, _ in private]

    snap = await engine.read(AID)
    assert snap is not None and snap.sealed and snap.status == "open"
    assert snap.state.bids == (StandingBid("alice", 25_000, 3), StandingBid("bob", 30_000, 2),
                               StandingBid("carol", 12_000, 4))
    public = snap.public().state
    assert (public.current_price, public.leader, public.bid_count, public.seq, public.bids) == (
        None, None, 0, 0, ())
    assert snap.public().leader_paddle is None and snap.minimum_next_bid == spec.starting_price

    await wait_until(engine, spec.ends_at_ms)
    late = await engine.place_bid(AID, bidder_id="dave", amount=90_000)
    assert isinstance(late, BidRejected) and late.code == "auction_closed"
    result = await engine.close_round(AID)
    price = 30_000 if kind == "sealed_first_price" else 25_000
    assert result.status == "closed" and result.outcome == Outcome(True, "bob", price)
    assert result.winner_paddle == QUALIFIED["bob"]
    closed = [e.fields for e in await engine.events_since(AID)]
    assert [f["type"] for f in closed] == ["round_closed", "closed"]
    assert closed[0]["price"] == str(price) and closed[0]["bid_count"] == "4"
    after = await engine.read(AID)
    assert after is not None and not after.sealed and after.public().state.bid_count == 4


async def test_sealed_idempotency(engine: Engine) -> None:
    await open_kind(engine, "sealed_first_price")
    first = await engine.place_bid(AID, bidder_id="alice", amount=20_000, idempotency_key="k")
    again = await engine.place_bid(AID, bidder_id="alice", amount=20_000, idempotency_key="k")
    other = await engine.place_bid(AID, bidder_id="alice", amount=21_000, idempotency_key="k")
    assert isinstance(first, BidAccepted) and again == first
    assert isinstance(other, BidRejected) and (other.code, other.seq) == ("idempotency_key_reused", 0)
    snap = await engine.read(AID)
    assert snap is not None and (snap.state.seq, snap.state.bid_count) == (1, 1)


async def test_sealed_restore_then_close(engine: Engine) -> None:
    now = await engine.server_time_ms()
    spec = RoundSpec("sealed_second_price", now - 5_000, now - 1, 10_000, 500, reserve=15_000)
    state = RoundState(now - 1, bid_count=3, seq=3,
                       bids=(StandingBid("alice", 40_000, 3), StandingBid("bob", 12_000, 2)))
    await qualify_all(engine)
    assert (await engine.open_round(AID, spec, 1, restore=state)).initialised
    snap = await engine.read(AID)
    assert snap is not None and snap.state == state
    assert (await engine.close_round(AID)).outcome == Outcome(True, "alice", 15_000)


# --- dutch ---------------------------------------------------------------------------------


async def test_dutch_first_bid_closes_the_round(engine: Engine) -> None:
    spec = await open_kind(engine, "dutch")
    first = await engine.place_bid(AID, bidder_id="alice", idempotency_key="k")
    assert isinstance(first, BidAccepted) and first.closed and first.kind == "dutch"
    assert first.amount == dutch_price(spec, first.placed_at_ms) == 98_000
    assert first.ends_at_ms == first.placed_at_ms
    assert await engine.due_auctions(first.placed_at_ms, 10) == [AID]  # the worker finalises now
    retry = await engine.place_bid(AID, bidder_id="alice", idempotency_key="k")
    assert retry == first
    for bidder in ("bob", "alice"):
        late = await engine.place_bid(AID, bidder_id=bidder)
        assert isinstance(late, BidRejected) and late.code == "auction_closed"
    result = await engine.close_round(AID)
    assert result.status == "already_closed"
    assert result.outcome == Outcome(True, "alice", 98_000) and result.winner_paddle == "101"
    assert result.closed_at_ms == result.ends_at_ms == first.placed_at_ms
    events = await engine.events_since(AID)
    assert [e.type for e in events] == ["bid", "round_closed", "closed"]
    assert events[0].fields["amount"] == "98000" and events[0].id == first.event_id
    snap = await engine.read(AID)
    assert snap is not None and snap.status == "closed" and snap.close is not None
    assert snap.close.outcome == result.outcome


async def test_dutch_unsold_when_nobody_bids(engine: Engine) -> None:
    spec = await open_kind(engine, "dutch", ends_in=300)
    snap = await engine.read(AID)
    assert snap is not None and snap.minimum_next_bid == dutch_price(spec, snap.now_ms)
    await wait_until(engine, spec.ends_at_ms)
    assert (await engine.close_round(AID)).outcome == Outcome(False)


async def test_dutch_and_advance_need_the_right_round_position(engine: Engine) -> None:
    now = await engine.server_time_ms()
    dutch = RoundSpec("dutch", now, now + 10, 100, 1, step=1, interval_ms=1, floor=50)
    with pytest.raises(ValueError, match="final round"):
        await engine.open_round(AID, dutch, 1, final=False)
    sealed = RoundSpec("sealed_first_price", now, now + 10, 100, 1, advance=3)
    with pytest.raises(ValueError, match="non-final"):
        await engine.open_round(AID, sealed, 1, final=True)


# --- proxy ---------------------------------------------------------------------------------


async def test_proxy_maximum_is_never_shown(engine: Engine) -> None:
    await open_kind(engine, "english")
    alice = await engine.place_bid(AID, bidder_id="alice", max_amount=50_000, idempotency_key="p")
    assert isinstance(alice, BidAccepted) and alice.amount == 10_000
    bob = await engine.place_bid(AID, bidder_id="bob", amount=20_000)
    assert isinstance(bob, BidAccepted) and bob.outbid
    assert [(p.bidder, p.amount, p.by_proxy) for p in bob.placed] == [
        ("bob", 20_000, False), ("alice", 20_500, True)]
    events = await engine.events_since(AID)
    assert [e.fields["amount"] for e in events] == ["10000", "20000", "20500"]
    assert not any(leaked(e.fields, 50_000) for e in events)
    snap = await engine.read(AID)
    assert snap is not None and snap.state.proxy_max == 50_000
    assert snap.public().state.proxy_max is None and snap.public().state.bids == ()
    # the same key and body replays; another maximum under that key is refused
    again = await engine.place_bid(AID, bidder_id="alice", max_amount=50_000, idempotency_key="p")
    assert again == alice
    other = await engine.place_bid(AID, bidder_id="alice", max_amount=60_000, idempotency_key="p")
    assert isinstance(other, BidRejected) and other.code == "idempotency_key_reused"
    carol = await engine.place_bid(AID, bidder_id="carol", max_amount=70_000)
    assert isinstance(carol, BidAccepted) and not carol.outbid and carol.amount == 50_500
    assert [(p.bidder, p.amount) for p in carol.placed] == [("alice", 50_000), ("carol", 50_500)]


async def test_proxy_restore_keeps_the_maximum(engine: Engine) -> None:
    spec = await open_kind(engine, "english", index=0)
    await engine.redis.hset(engine.keys(AID).state, "closed", "1")  # round 0 over: rebuild 1
    state = RoundState(spec.ends_at_ms, 10_000, "alice", 1, 1, proxy_max=50_000,
                       bids=(StandingBid("alice", 10_000, 1),))
    assert (await engine.open_round(AID, spec, 1, restore=state, leader_paddle="101")).initialised
    bob = await engine.place_bid(AID, bidder_id="bob", max_amount=30_000)
    assert isinstance(bob, BidAccepted) and bob.outbid
    assert [(p.bidder, p.amount) for p in bob.placed] == [("bob", 30_000), ("alice", 30_500)]


@pytest.mark.parametrize(
    ("kind", "kwargs", "match"),
    [("english", {}, "either"), ("sealed_first_price", {}, "needs an amount"),
     ("sealed_first_price", {"max_amount": 20_000}, "english rounds"),
     ("dutch", {"max_amount": 200_000}, "english rounds")],
)
async def test_requests_a_kind_cannot_take_raise(
    engine: Engine, kind: str, kwargs: dict, match: str
) -> None:
    await open_kind(engine, kind)
    with pytest.raises(ValueError, match=match):
        await engine.place_bid(AID, bidder_id="alice", **kwargs)
    with pytest.raises(ValueError, match="not both"):
        await engine.place_bid(AID, bidder_id="alice", amount=1, max_amount=2)


@pytest.mark.parametrize(
    "state",
    [RoundState(10, 10_000, "alice", 1, 1), RoundState(10, proxy_max=5),
     RoundState(10, bid_count=1, seq=1, bids=(StandingBid("a", 5, 2),)),
     RoundState(10, seq=2, bids=(StandingBid("a", 5, 1), StandingBid("a", 6, 2)))],
)
async def test_impossible_sealed_restores_are_refused(engine: Engine, state: RoundState) -> None:
    spec = RoundSpec("sealed_first_price", 0, 10, 1, 1)
    with pytest.raises(ValueError):
        await engine.open_round(AID, spec, 1, restore=state, leader_paddle="101")
    assert await engine.read(AID) is None


# --- several rounds ------------------------------------------------------------------------


async def test_sealed_round_advances_its_best_three_to_an_english_round(engine: Engine) -> None:
    sealed = await open_kind(engine, "sealed_first_price", ends_in=600, index=0, final=False,
                             advance=3)
    for bidder, amount in [("alice", 20_000), ("bob", 35_000), ("carol", 30_000),
                           ("dave", 25_000), ("alice", 31_000)]:
        assert isinstance(await engine.place_bid(AID, bidder_id=bidder, amount=amount), BidAccepted)
    await wait_until(engine, sealed.ends_at_ms)
    closed = await engine.close_round(AID)
    assert closed.advance == Advance(("bob", "alice", "carol"), 35_000)
    assert closed.advanced_paddles == ("202", "101", "303")
    events = await engine.events_since(AID)
    assert [e.type for e in events] == ["round_closed"]  # not final: no `closed`
    assert (events[0].fields["advanced"], events[0].fields["best"]) == ("202,101,303", "35000")

    now = await engine.server_time_ms()
    english = RoundSpec("english", now - 1_000, now + 60_000, closed.advance.best, 500)
    assert (await engine.open_round(AID, english, 1)).initialised
    snap = await engine.read(AID)
    assert snap is not None and snap.state.bids == () and snap.state.seq == 5
    shut_out = await engine.place_bid(AID, bidder_id="dave", amount=90_000)
    assert isinstance(shut_out, BidRejected) and shut_out.code == "not_qualified"
    low = await engine.place_bid(AID, bidder_id="alice", amount=34_999)
    assert isinstance(low, BidRejected) and low.code == "bid_too_low"
    bid = await engine.place_bid(AID, bidder_id="alice", amount=35_000)
    assert isinstance(bid, BidAccepted) and bid.seq == 6
    await engine.qualify(AID, "dave", "404", round_index=1)  # an admin lets dave in after all
    assert isinstance(await engine.place_bid(AID, bidder_id="dave", amount=36_000), BidAccepted)
    stored = await engine.read(AID)
    assert stored is not None and stored.round_index == 1 and stored.close is None


async def test_explicit_advanced_list_restricts_a_rebuilt_round(engine: Engine) -> None:
    now = await engine.server_time_ms()
    spec = RoundSpec("english", now - 1_000, now + 60_000, 10_000, 500)
    await qualify_all(engine)
    assert (await engine.open_round(AID, spec, 2, advanced=["bob", "carol"])).initialised
    alice = await engine.place_bid(AID, bidder_id="alice", amount=10_000)
    assert isinstance(alice, BidRejected) and alice.code == "not_qualified"
    assert isinstance(await engine.place_bid(AID, bidder_id="bob", amount=10_000), BidAccepted)


async def test_unrestricted_next_round_without_advance(engine: Engine) -> None:
    first = await open_kind(engine, "english", ends_in=300, index=0, final=False)
    await engine.place_bid(AID, bidder_id="alice", amount=10_000)
    await wait_until(engine, first.ends_at_ms)
    closed = await engine.close_round(AID)
    assert closed.advance is None and closed.outcome == Outcome(True, "alice", 10_000)
    now = await engine.server_time_ms()
    second = RoundSpec("sealed_first_price", now - 1, now + 60_000, 10_000, 500)
    assert (await engine.open_round(AID, second, 1)).initialised
    snap = await engine.read(AID)
    assert snap is not None and snap.state.bids == ()
    assert isinstance(await engine.place_bid(AID, bidder_id="dave", amount=10_000), BidAccepted)
