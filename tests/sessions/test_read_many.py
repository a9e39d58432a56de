"""Engine.read_many: every auction's snapshot and the server time in one pipeline."""

from tests.support.auctions import create_auction


async def test_read_many_reads_as_read_does(actors, app):
    engine = app.state.engine
    ids = [(await create_auction(actors))["id"] for _ in range(2)]
    before = await engine.server_time_ms()
    now_ms, snaps = await engine.read_many([*ids, 2**40])
    assert before <= now_ms <= await engine.server_time_ms()
    assert snaps[2] is None
    for auction_id, snap in zip(ids, snaps, strict=False):
        single = await engine.read(auction_id)
        assert (snap.spec, snap.state, snap.round_index) == (single.spec, single.state, single.round_index)
    assert (await engine.read_many([]))[1] == []
