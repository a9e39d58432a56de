"""Outbid notices come from the auction's stream, once per change of standing: a 200-bid
burst tells the bidder it overtook at the start once, not once per later bid."""

import asyncio

from sqlalchemy import select

from app.auctions.engine import Event
from app.auctions.outbid import Standing, notify_outbid, outbid_in
from app.notifications.models import Notification
from app.security import Role
from tests.support.auctions import API, approved_listing, create_auction, qualified_bidder

STARTING = 2_000_000_00  # minor units: the test listing's starting price
STEP = 10_000_00


def _bids(paddles: list[str], first_seq: int = 1) -> list[Event]:
    return [Event(f"{n}-0", "bid", {"paddle": p, "seq": str(n), "amount": str(STARTING + n * STEP),
                                    "round": "0"}) for n, p in enumerate(paddles, first_seq)]


def test_one_notice_per_loss_of_the_lead_whatever_the_batches():
    burst = ["a"] + ["b", "c"] * 100  # a leads, then b and c trade the lead 199 times
    standing, told = outbid_in(Standing(), _bids(burst))
    assert standing.leader == "c"
    assert {(o.paddle, o.by_seq) for o in told} == {("a", 2), ("b", 201)}
    # read in passes of 7 bids: a once, b and c once per pass in which they lost the lead
    standing, seen = Standing(), []
    events = _bids(burst)
    for start in range(0, len(events), 7):
        standing, told = outbid_in(standing, events[start:start + 7])
        seen += told
    assert [o.by_seq for o in seen if o.paddle == "a"] == [2]
    keys = [(o.paddle, o.by_seq) for o in seen]
    assert len(keys) == len(set(keys)) <= 2 * (len(events) // 7 + 1)
    # a new round starts with no standing: its first bid overtakes nobody
    _, told = outbid_in(Standing(None, "0", "c"), [Event("9-0", "bid", {
        "paddle": "a", "seq": "300", "amount": "1", "round": "1"})])
    assert told == []


async def test_burst_of_200_bids_tells_each_change_of_standing_once(app, actors):
    auction = await create_auction(actors, listing_id=await approved_listing(actors), lasts=120)
    a, b, c = [await qualified_bidder(actors, auction["id"], await actors.user(Role.enterprise))
               for _ in range(3)]
    stop = asyncio.Event()

    async def worker_passes() -> None:
        while not stop.is_set():
            await notify_outbid(app.state.engine, app.state.sessionmaker)
            await asyncio.sleep(0.05)

    passes = asyncio.create_task(worker_passes())
    amount, order = STARTING, [a] + [b, c] * 100
    for bidder in order[:200]:
        response = await actors.client.post(f"{API}/auctions/{auction['id']}/bids",
                                            json={"amount": f"{amount / 100:.2f}"}, headers=bidder.headers)
        assert response.status_code == 201, response.text
        amount += STEP
    stop.set()
    await passes
    await notify_outbid(app.state.engine, app.state.sessionmaker)
    await notify_outbid(app.state.engine, app.state.sessionmaker)  # again: nothing new

    bids = (await actors.client.get(f"{API}/auctions/{auction['id']}/bids",
                                    params={"limit": 1000})).json()["items"]
    paddle_at = {bid["sequence"]: bid["paddle"] for bid in bids}
    async with app.state.sessionmaker() as session:
        notices = (await session.scalars(select(Notification).where(
            Notification.auction_id == auction["id"], Notification.type == "bid.outbid"))).all()
    per_paddle: dict[str, list[int]] = {}
    for n in notices:
        seq = n.payload["sequence"]
        # he led just before that bid, and that bid was another's
        assert paddle_at[seq - 1] == n.payload["paddle"] != paddle_at[seq]
        per_paddle.setdefault(n.payload["paddle"], []).append(seq)
    paddles = {p: paddle_at[s] for p, s in (("a", 1), ("b", 2), ("c", 3))}
    assert per_paddle[paddles["a"]] == [2]  # overtaken once, told once
    assert paddles["b"] in per_paddle  # the last leader was c: b was told at the end
    assert len({(n.payload["paddle"], n.payload["sequence"]) for n in notices}) == len(notices)
    inbox = (await actors.client.get(f"{API}/me/notifications", headers=a.headers)).json()["items"]
    assert [n["type"] for n in inbox].count("bid.outbid") == 1
