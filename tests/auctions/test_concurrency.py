"""A burst of 200 qualified bidders at one lot with soft close and hard close, over real HTTP."""

import asyncio

from tests.support.auctions import API, create_auction
from tests.support.kinds import bid
from tests.support.live import (
    enterprises,
    qualify_all,
    server_now,
    soft_close_burst,
)
from tests.support.pages import bid_trail


async def test_burst_of_200_bidders_keeps_every_invariant(actors, client, app):
    counts = await soft_close_burst(actors, client, app, bidders=200, attempts=14)
    assert counts["accepted"] >= 3


async def test_idempotency_key_replays_the_first_answer(actors, client):
    auction = await create_auction(actors, lasts=60)
    auction_id = auction["id"]
    alice, bob = await enterprises(actors, 2)
    await qualify_all(client, actors.admin, auction_id, [alice, bob])

    first = await bid(client, auction_id, alice, "k-1", amount="2000000.00")
    assert first.status_code == 201, first.text
    # Same key, same body: the identical 201, also after being outbid (no already_leading).
    assert (await bid(client, auction_id, alice, "k-1", amount="2000000.00")).json() == first.json()
    outbid = await bid(client, auction_id, bob, "k-1", amount="2010000.00")  # keys are per bidder
    assert outbid.status_code == 201 and outbid.json()["sequence"] == 2
    replay = await bid(client, auction_id, alice, "k-1", amount="2000000.00")
    assert replay.status_code == 201 and replay.json() == first.json()
    # Same key, another body: refused, and nothing changes.
    reused = await bid(client, auction_id, alice, "k-1", amount="2500000.00")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    # A refused answer is replayed too (the key stays bound to its first body).
    low = await bid(client, auction_id, alice, "k-2", amount="2010000.00")
    assert low.status_code == 409 and low.json()["code"] == "bid_too_low"
    assert (await bid(client, auction_id, alice, "k-2", amount="2010000.00")).json() == low.json()
    # Malformed keys are 422 and change nothing.
    for bad in (b"x" * 256, b"has space", "ключ".encode()):
        response = await client.post(
            f"{API}/auctions/{auction_id}/bids", json={"amount": "3000000.00"},
            headers=alice.headers | {"Idempotency-Key": bad},
        )
        assert response.status_code == 422, (bad, response.text)

    state, _ = await server_now(client, auction_id)
    assert state["bid_count"] == 2 and state["current_price"] == "2010000.00"
    trail = await bid_trail(client, auction_id, actors.admin.headers)
    assert [(b["sequence"], b["amount"]) for b in trail] == [(1, "2000000.00"), (2, "2010000.00")]
    assert trail[0]["id"] == first.json()["id"]


async def test_racing_equal_bids_only_one_leads(actors, client):
    auction = await create_auction(actors, lasts=60)
    auction_id = auction["id"]
    bidders = await enterprises(actors, 12)
    await qualify_all(client, actors.admin, auction_id, bidders)
    answers = await asyncio.gather(*(
        client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": "2000000.00"},
                    headers=b.headers) for b in bidders
    ))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 11
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"bid_too_low"}
    state, _ = await server_now(client, auction_id)
    assert state["bid_count"] == 1


async def _wipe_redis(app, settings) -> None:
    redis = app.state.redis
    keys = [k async for k in redis.scan_iter(match=f"{settings.redis_prefix}:*", count=1000)]
    for key in keys:
        await redis.delete(key)


async def test_keyed_bid_after_redis_lost_the_round_is_accepted(actors, client, app, settings):
    auction = await create_auction(actors, lasts=60)
    auction_id = auction["id"]
    alice, = await enterprises(actors, 1)
    await qualify_all(client, actors.admin, auction_id, [alice])
    await _wipe_redis(app, settings)
    response = await bid(client, auction_id, alice, "after-loss", amount="2000000.00")
    assert response.status_code == 201, response.text


async def test_idempotent_retry_survives_redis_loss(actors, client, app, settings):
    auction = await create_auction(actors, lasts=60)
    auction_id = auction["id"]
    alice, = await enterprises(actors, 1)
    await qualify_all(client, actors.admin, auction_id, [alice])
    first = await bid(client, auction_id, alice, "retry-me", amount="2000000.00")
    assert first.status_code == 201, first.text
    await _wipe_redis(app, settings)
    await client.get(f"{API}/auctions/{auction_id}")  # a read rebuilds the round from SQL
    again = await bid(client, auction_id, alice, "retry-me", amount="2000000.00")
    assert again.status_code == 201, again.text
    assert again.json() == first.json()


async def _bid_after(delay: float, client, auction_id: int, bidder, amount: str):
    await asyncio.sleep(delay)  # spread over the rebuild, so some decide while it runs
    return await bid(client, auction_id, bidder, amount=amount)


async def test_bidders_racing_the_rebuild_after_redis_lost_the_round(actors, client, app, settings):
    """Whoever rebuilds the round, nobody racing it is told the auction has not opened."""
    auction = await create_auction(actors, lasts=60)
    auction_id = auction["id"]
    bidders = await enterprises(actors, 40)
    await qualify_all(client, actors.admin, auction_id, bidders)
    for attempt in range(3):
        await _wipe_redis(app, settings)
        answers = await asyncio.gather(*(
            _bid_after(i * 0.001, client, auction_id, b, f"{3_000_000 * (attempt + 1) + i * 10_000}.00")
            for i, b in enumerate(bidders)
        ))
        refused = {a.json()["code"] for a in answers if a.status_code != 201}
        assert refused <= {"bid_too_low", "already_leading"}, (attempt, refused)
        assert any(a.status_code == 201 for a in answers)
    trail = await bid_trail(client, auction_id, actors.admin.headers)
    amounts = [b["amount"] for b in trail]
    assert len(trail) == len(set(amounts))
