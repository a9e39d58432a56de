"""The bid trail at settlement: complete in SQL (bids only Redis knew are recovered from the
event stream) and digested exactly as an auditor recomputes it from GET /auctions/{id}/bids."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.auctions.models import Bid
from app.auctions.trail import completion as trail_completion
from app.auctions.trail.journal import BidEntry, write_bids
from app.closing.closer import close_due
from app.schemas import ms_to_datetime
from app.security import Role
from app.settlements import rules
from app.settlements import trail as settlement_trail
from tests.support.auctions import API, create_auction
from tests.support.digests import trail_sha256
from tests.support.pages import all_bids
from tests.support.settlements import (
    close,
    ledger_actions,
    run_auction,
    settlement_of,
    verify_ok,
    wait_until_due,
)


async def test_digest_matches_the_trail_an_auditor_reads(app, actors, client):
    bids = [("alice" if i % 2 == 0 else "bob", f"{2000000 + 10000 * i}.00") for i in range(12)]
    sale = await run_auction(actors, bids)
    await close(app, client, sale.auction_id)
    s = await settlement_of(actors, sale.auction_id)
    public = await all_bids(client, sale.auction_id)  # anonymous: paddles only
    assert [b["sequence"] for b in public] == list(range(12, 0, -1))
    assert s["bid_count"] == 12 and s["bid_trail_sha256"] == trail_sha256(public)
    assert s["hammer_price"] == "2110000.00"
    # The ledger's settlement.created entry carries the same digest.
    created = await ledger_actions(client, actors.admin.headers, action="settlement.created")
    assert json.loads(created[0]["payload"])["bid_trail_sha256"] == s["bid_trail_sha256"]


async def _engine_only_bid(app, auction_id: int, organization_id: int, amount_cents: int):
    """A bid the engine accepts whose journal write never happens (as after a crash)."""
    accepted = await app.state.engine.place_bid(
        auction_id, bidder_id=organization_id, amount=amount_cents
    )
    assert accepted.ok, accepted
    return accepted


async def test_a_bid_only_in_redis_is_in_the_trail_and_the_digest(app, actors, client):
    sale = await run_auction(actors, [("alice", "2000000.00")], others=("bob",))
    bob = sale.bidders["bob"]
    lost = await _engine_only_bid(app, sale.auction_id, bob.organization_id, 201_000_000)
    assert lost.seq == 2
    assert [b["sequence"] for b in await all_bids(client, sale.auction_id)] == [1]
    await close(app, client, sale.auction_id)

    s = await settlement_of(actors, sale.auction_id)
    trail = await all_bids(client, sale.auction_id, headers=actors.admin.headers)
    assert [b["sequence"] for b in trail] == [2, 1]
    recovered = trail[0]
    assert recovered["organization_id"] == bob.organization_id
    assert recovered["amount"] == "2010000.00" and recovered["paddle"] == lost.paddle
    assert recovered["placed_at"] == ms_to_datetime(lost.placed_at_ms).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    assert s["bid_count"] == 2 and s["bid_trail_sha256"] == trail_sha256(trail)
    assert s["buyer_organization_id"] == bob.organization_id and s["hammer_price"] == "2010000.00"
    entry = (await ledger_actions(client, actors.admin.headers, action="bids.recovered"))[0]
    assert entry["entity_id"] == sale.auction_id
    assert json.loads(entry["payload"])["sequences"] == [2]
    await verify_ok(client, actors.admin.headers)


async def test_gaps_anywhere_are_recovered_across_stream_batches(app, actors, client, monkeypatch):
    monkeypatch.setattr(trail_completion, "STREAM_BATCH", 3)
    sale = await run_auction(actors, [], others=("alice", "bob"), lasts=6.0)
    alice, bob = sale.bidders["alice"], sale.bidders["bob"]
    lost = []
    for i in range(10):
        amount = 200_000_000 + 1_000_000 * i
        if i in (1, 7):  # seq 2 and 8: the engine accepted them, the journal never heard
            lost.append(await _engine_only_bid(app, sale.auction_id, bob.organization_id, amount))
            continue
        who = alice if i % 2 == 0 else bob
        response = await client.post(f"{API}/auctions/{sale.auction_id}/bids",
                                     json={"amount": f"{amount / 100:.2f}"}, headers=who.headers)
        assert response.status_code == 201, response.text
    await close(app, client, sale.auction_id)
    s = await settlement_of(actors, sale.auction_id)
    trail = await all_bids(client, sale.auction_id)
    assert sorted(b["sequence"] for b in trail) == list(range(1, 11))
    assert s["bid_count"] == 10 and s["bid_trail_sha256"] == trail_sha256(trail)
    entry = (await ledger_actions(client, actors.admin.headers, action="bids.recovered"))[0]
    assert json.loads(entry["payload"])["sequences"] == [lost[0].seq, lost[1].seq] == [2, 8]


async def test_a_late_journal_write_of_a_recovered_bid_changes_nothing(app, actors, client):
    sale = await run_auction(actors, [("alice", "2000000.00")], others=("bob",))
    bob = sale.bidders["bob"]
    lost = await _engine_only_bid(app, sale.auction_id, bob.organization_id, 201_000_000)
    await close(app, client, sale.auction_id)
    before = await all_bids(client, sale.auction_id, headers=actors.admin.headers)
    entry = BidEntry(
        auction_id=sale.auction_id, round_index=0, sequence=lost.seq,
        organization_id=bob.organization_id, paddle=lost.paddle, amount=before[0]["amount"],
        placed_at=ms_to_datetime(lost.placed_at_ms), ends_at=ms_to_datetime(lost.ends_at_ms),
        placed_by_id=bob.user_id, idempotency_key=None, event_id=lost.event_id,
    )
    async with app.state.journal.engine.connect() as conn:
        ids = await write_bids(conn, [entry])
    assert ids == {(sale.auction_id, lost.seq): (before[0]["id"], lost.event_id)}
    assert await all_bids(client, sale.auction_id, headers=actors.admin.headers) == before
    s = await settlement_of(actors, sale.auction_id)
    assert s["bid_trail_sha256"] == trail_sha256(before)


async def test_redis_that_lost_the_auction_settles_from_sql(app, actors, client):
    sale = await run_auction(actors, [("alice", "2000000.00"), ("bob", "2010000.00")])
    await wait_until_due(client, sale.auction_id)
    keys = app.state.engine.keys(sale.auction_id)
    await app.state.redis.delete(keys.state, keys.bidders, keys.idem, keys.events)
    engine, sessionmaker = app.state.engine, app.state.sessionmaker
    assert await close_due(engine, sessionmaker) == 0  # rebuilds the round from SQL
    assert await close_due(engine, sessionmaker) == 1  # and closes it
    s = await settlement_of(actors, sale.auction_id)
    assert s["bid_count"] == 2 and s["hammer_price"] == "2010000.00"
    assert s["buyer_organization_id"] == sale.bidders["bob"].organization_id
    assert s["bid_trail_sha256"] == trail_sha256(await all_bids(client, sale.auction_id))
    assert await ledger_actions(client, actors.admin.headers, action="bids.recovered") == []
    await verify_ok(client, actors.admin.headers)


async def test_the_database_digest_matches_the_documented_lines(app, actors):
    """Whichever way the backend builds the lines, they are rules.TrailDigest's (sub-millisecond
    times truncated, any round, amounts to two places, gaps in the sequence)."""
    auction = await create_auction(actors, lasts=60)
    bidder = await actors.user(Role.enterprise)
    t0 = datetime(2026, 11, 28, 23, 59, 59, 999999, tzinfo=UTC)
    values = [(1, 0, "1000", Decimal("2000000.00"), t0),
              (2, 0, "98765", Decimal("2000000.10"), t0 + timedelta(microseconds=1)),
              (5, 1, "1000", Decimal("999999999999.99"), t0 + timedelta(days=400, microseconds=1500))]
    async with app.state.sessionmaker() as session, session.begin():
        session.add_all(Bid(auction_id=auction["id"], round_index=r, sequence=seq,
                            organization_id=bidder.organization_id, paddle=paddle, amount=amount,
                            placed_at=at, ends_at=at, placed_by_id=None, event_id=f"{seq}-0")
                        for seq, r, paddle, amount, at in values)
    expected = rules.TrailDigest()
    for seq, r, paddle, amount, at in values:
        expected.add(sequence=seq, round_index=r, paddle=paddle, amount=amount, placed_at=at)
    async with app.state.sessionmaker() as session, session.begin():
        got = await settlement_trail.digest(session, auction_id=auction["id"])
    assert (got.count, got.hexdigest()) == (3, expected.hexdigest())
    async with app.state.sessionmaker() as session, session.begin():
        empty = await settlement_trail.digest(session, auction_id=auction["id"] + 1000)
    assert (empty.count, empty.hexdigest()) == (0, rules.EMPTY_TRAIL_SHA256)
