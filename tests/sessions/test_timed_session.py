"""A timed session over HTTP: lots close one after another by the stagger, a late bid extends
only its own lot, one session registration bids on every lot, results and settlements."""

import asyncio

from app.security import Role
from tests.sessions.helpers import add_lot, bid, create_session, publish, qualify, wait_for
from tests.support.auctions import API, approved_listing
from tests.support.live import ms, server_now

# Margins sized for a loaded CI host: 8 s before the first close for the set-up, and a late
# bid on lot 2 extends it to at most 2 s past its due close, 1 s before lot 3 is due.
DURATION, STAGGER, WINDOW, EXTENSION = 8, 3, 1, 2


async def test_timed_session_runs_closes_in_order_and_settles(actors, client, app):
    institute = await actors.user(Role.institute)
    alice, bob, carol = [await actors.user(Role.enterprise) for _ in range(3)]
    a, b, c = [await approved_listing(actors, institute) for _ in range(3)]
    d = await approved_listing(actors, institute, reserve_price="3000000.00")
    event = await create_session(
        actors, lot_duration_seconds=DURATION, stagger_seconds=STAGGER,
        anti_sniping={"window_seconds": WINDOW, "extension_seconds": EXTENSION})
    sid = event["id"]
    assert event["status"] == "draft" and event["stagger_seconds"] == STAGGER
    # numbered out of order: the schedule follows lot_number, not the order lots were added
    first = await add_lot(actors, sid, a)
    third = await add_lot(actors, sid, b, lot_number=3, starting_price="1500000.00")
    fourth = await add_lot(actors, sid, d)
    second = await add_lot(actors, sid, c, lot_number=2)
    assert [first["lot_number"], second["lot_number"], third["lot_number"], fourth["lot_number"]] == [
        1, 2, 3, 4]
    assert first["status"] == "queued" and third["starting_price"] == "1500000.00"
    published = await publish(actors, sid)
    assert published["status"] in ("published", "running")
    regs = {who.email: await qualify(actors, sid, who) for who in (alice, bob, carol)}
    paddles = {email: r["paddle"] for email, r in regs.items()}
    assert len(set(paddles.values())) == 3

    body = (await client.get(f"{API}/sessions/{sid}")).json()
    lots = body["lots"]
    assert [lot["lot_number"] for lot in lots] == [1, 2, 3, 4]
    ids = [lot["auction_id"] for lot in lots]
    starts = ms(body["starts_at"])
    assert all(ms(lot["opens_at"]) == starts for lot in lots)
    due = [starts + (DURATION + k * STAGGER) * 1000 for k in range(4)]
    assert [ms(lot["ends_at"]) for lot in lots] == due
    assert all(lot["status"] == "open" for lot in lots), lots

    # one registration bids on every lot (its paddle is the session's)
    for auction_id, amount in zip(ids, ("2000000.00", "2000000.00", "1500000.00", "2000000.00"),
                                  strict=True):
        placed = await bid(client, auction_id, alice, amount)
        assert placed.status_code == 201, placed.text
        assert placed.json()["paddle"] == paddles[alice.email]
    assert (await bid(client, ids[0], bob, "2010000.00")).status_code == 201

    # a late bid on lot 2 extends lot 2 only
    _, now = await server_now(client, ids[1])
    await asyncio.sleep((due[1] - now) / 1000 - 0.6)
    late = await bid(client, ids[1], bob, "2010000.00")
    assert late.status_code == 201, late.text
    extended = ms(late.json()["ends_at"])
    assert extended > due[1]
    body = (await client.get(f"{API}/sessions/{sid}")).json()
    assert ms(body["lots"][1]["ends_at"]) == extended
    assert [ms(lot["ends_at"]) for i, lot in enumerate(body["lots"]) if i != 1] == [
        due[0], due[2], due[3]]
    assert body["lots"][0]["status"] in ("sold", "open")

    body = await wait_for(client, sid, lambda s: s["status"] == "finished", within=30)
    assert [lot["status"] for lot in body["lots"]] == ["sold", "sold", "sold", "passed"]
    assert [lot["hammer_price"] for lot in body["lots"]] == [
        "2010000.00", "2010000.00", "1500000.00", None]
    closed = [(await client.get(f"{API}/auctions/{i}/result")).json()["closed_at"] for i in ids]
    assert [ms(t) for t in closed] == sorted(ms(t) for t in closed)  # in order
    for closed_at, expected in zip(closed, (due[0], extended, due[2], due[3]), strict=True):
        assert expected <= ms(closed_at) < expected + 2000

    notice = (await client.get(f"{API}/sessions/{sid}/results")).json()
    assert notice["totals"] == {"lots": 4, "sold": 3, "passed": 1, "withdrawn": 0,
                                "sell_through_rate": "0.7500", "turnover": "5520000.00"}
    assert [(r["outcome"], r["winning_paddle"]) for r in notice["lots"]] == [
        ("sold", paddles[bob.email]), ("sold", paddles[bob.email]),
        ("sold", paddles[alice.email]), ("passed", None)]
    csv = await client.get(f"{API}/sessions/{sid}/results", headers={"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.splitlines()
    assert rows[0] == "lot_number,auction_id,title,outcome,hammer_price,winning_paddle"
    assert rows[1].endswith(f",sold,2010000.00,{paddles[bob.email]}") and rows[4].endswith(",passed,,")
    assert (await client.get(f"{API}/sessions/{sid}/results?format=csv")).text == csv.text

    # the session deposit is applied once, to the first lot each bidder won
    admin = actors.admin.headers
    terms = []
    for auction_id in ids[:3]:
        page = (await client.get(f"{API}/settlements?auction={auction_id}", headers=admin)).json()
        (settlement,) = page["items"]
        terms.append((settlement["paddle"], settlement["hammer_price"], settlement["buyer_premium"],
                      settlement["deposit_applied"], settlement["amount_due"]))
    assert terms == [
        (paddles[bob.email], "2010000.00", "100500.00", "100000.00", "2010500.00"),
        (paddles[bob.email], "2010000.00", "100500.00", "0.00", "2110500.00"),
        (paddles[alice.email], "1500000.00", "75000.00", "100000.00", "1475000.00"),
    ]
    registrations = (await client.get(f"{API}/sessions/{sid}/registrations", headers=admin)).json()
    deposits = {r["paddle"]: r["deposit_status"] for r in registrations["items"]}
    assert deposits == {paddles[alice.email]: "applied", paddles[bob.email]: "applied",
                        paddles[carol.email]: "released"}
    verify = (await client.get(f"{API}/audit/verify", headers=admin)).json()
    assert verify["ok"] is True
