"""Redis down, then back: a bid and a read answer a deliberate 503 (problem+json `unavailable`,
Retry-After, one warning line), never a 500; once Redis is back, bids work at once, and a
retried Idempotency-Key is answered with its one bid."""

import httpx
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from structlog.testing import capture_logs

from app import errors
from tests.support import databases
from tests.support.auctions import API
from tests.support.own_redis import lot_on


def assert_unavailable(response: httpx.Response) -> dict:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["code"] == "unavailable" and body["status"] == 503
    return body


async def test_bids_and_reads_answer_503_while_redis_is_down_and_work_once_it_is_back(
    settings, database_url, own_redis, monkeypatch
):
    try:
        await _outage_and_back(settings, own_redis, monkeypatch)
    finally:
        await databases.empty_all_tables(database_url)


async def _outage_and_back(settings, own_redis, monkeypatch) -> None:
    async with lot_on(settings, own_redis) as lot:
        client, auction_id, alice, bob = lot.client, lot.auction_id, lot.alice, lot.bob
        bids = f"{API}/auctions/{auction_id}/bids"
        first = await client.post(bids, json={"amount": "2000000.00"}, headers=alice.headers)
        assert first.status_code == 201, first.text

        own_redis.kill()
        keyed = {**bob.headers, "Idempotency-Key": "outage-1"}
        assert_unavailable(await client.post(bids, json={"amount": "2010000.00"}, headers=keyed))
        # a fresh logger: the module's own may be cached with the processors of before
        monkeypatch.setattr(errors, "log", structlog.get_logger())
        with capture_logs() as logs:
            assert_unavailable(await client.get(f"{API}/auctions/{auction_id}"))
        assert [(e["event"], e["log_level"]) for e in logs] == [("redis_unreachable", "warning")]
        assert "exc_info" not in logs[0]

        own_redis.start()  # same port, its AOF replayed: the round is still there
        placed = await client.post(bids, json={"amount": "2010000.00"}, headers=keyed)
        assert placed.status_code == 201, placed.text  # the first bid after the restart
        again = await client.post(bids, json={"amount": "2010000.00"}, headers=keyed)
        assert again.status_code == 201 and again.json() == placed.json()
        state = (await client.get(f"{API}/auctions/{auction_id}")).json()
        assert state["current_price"] == "2010000.00"

        # The connection lost after the bid was written: Redis may have placed it, so the
        # answer is 503 and asks for a retry with the same key (which the replay above serves).
        async def lost(*_args, **_kwargs):
            raise RedisConnectionError("Connection closed by server.")

        monkeypatch.setattr(lot.app.state.engine, "_bid", lost)
        body = assert_unavailable(await client.post(bids, json={"amount": "2020000.00"},
                                                    headers=alice.headers))
        assert "Idempotency-Key" in body["detail"]
