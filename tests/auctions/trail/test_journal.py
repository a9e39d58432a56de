"""The bid journal's group commit: bids that arrive while a batch lingers share its commit."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from app.auctions.trail.journal import SHARED_BATCH, BidEntry, Journal
from tests.support.auctions import API, create_auction, qualified_bidder


def _entry(auction_id: int, organization_id: int, user_id: int, sequence: int) -> BidEntry:
    now = datetime.now(UTC)
    return BidEntry(
        auction_id=auction_id, round_index=0, sequence=sequence, organization_id=organization_id,
        paddle="1234", amount=Decimal(2_000_000 + 10_000 * sequence), placed_at=now, ends_at=now,
        placed_by_id=user_id, idempotency_key=None, event_id=f"{sequence}-0",
    )


async def _record_while_lingering(journal: Journal, entries: list[BidEntry]) -> list[int]:
    journal.start()
    try:
        first = asyncio.create_task(journal.record(entries[0]))
        await asyncio.sleep(0.02)  # the first is queued and its batch is lingering
        return await asyncio.gather(first, *(journal.record(e) for e in entries[1:]))
    finally:
        await journal.stop()


async def test_bids_arriving_during_the_linger_share_one_commit(app, actors, client):
    auction = (await create_auction(actors, lasts=60))["id"]
    alice = await qualified_bidder(actors, auction)
    entries = [_entry(auction, alice.organization_id, alice.user_id, s) for s in range(1, 11)]
    journal = Journal(app.state.journal.engine, linger_s=0.2)
    ids = await _record_while_lingering(journal, entries)
    assert (journal.batches, journal.bids) == (1, 10)
    assert len(set(ids)) == 10
    trail = (await client.get(f"{API}/auctions/{auction}/bids")).json()["items"]
    assert sorted(b["sequence"] for b in trail) == list(range(1, 11))


async def test_without_linger_the_first_bid_is_written_at_once(app, actors):
    auction = (await create_auction(actors, lasts=60))["id"]
    alice = await qualified_bidder(actors, auction)
    entries = [_entry(auction, alice.organization_id, alice.user_id, s) for s in range(1, 4)]
    journal = Journal(app.state.journal.engine, linger_s=0)
    await _record_while_lingering(journal, entries)
    assert journal.batches >= 2 and journal.bids == 3


async def test_a_batch_that_already_shares_its_commit_does_not_linger(app, actors):
    auction = (await create_auction(actors, lasts=60))["id"]
    alice = await qualified_bidder(actors, auction)
    entries = [_entry(auction, alice.organization_id, alice.user_id, s)
               for s in range(1, SHARED_BATCH + 1)]
    # A linger far longer than the test may take: only the shared batch's rule can flush.
    journal = Journal(app.state.journal.engine, linger_s=60)
    journal.start()
    try:
        ids = await asyncio.wait_for(asyncio.gather(*(journal.record(e) for e in entries)), 10)
    finally:
        await journal.stop()
    assert (journal.batches, journal.bids) == (1, SHARED_BATCH)
    assert len(set(ids)) == SHARED_BATCH
