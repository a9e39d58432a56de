"""Rooms of every round kind show what the API would show the viewer, and no more; the
enterprise console shows its own settlements with the amount due and the due date."""

from datetime import date

from babel.dates import format_date

from tests.support.auctions import qualified_bidder
from tests.support.kinds import bid, finish, kind_auction, rnd
from tests.web.pages import page_client, sign_in


async def test_a_sealed_room_shows_the_viewer_only_his_own_bid(app, actors, client):
    auction = await kind_auction(actors, [rnd("sealed_first_price", -0.5, 600)])
    alice = await qualified_bidder(actors, auction["id"])
    bob = await qualified_bidder(actors, auction["id"])
    for who, amount in ((alice, "2100000.00"), (bob, "2200000.00")):
        assert (await bid(client, auction["id"], who, amount=amount)).status_code == 201
    async with await page_client(app) as http:
        anonymous = (await http.get(f"/auctions/{auction['id']}?lang=en")).text
        await sign_in(http, alice.email)
        own = (await http.get(f"/auctions/{auction['id']}?lang=en")).text
    assert "Hidden until the close" in anonymous and "Hidden until the close" in own
    for page in (anonymous, own):
        assert "2,200,000.00" not in page and "2200000" not in page
    assert "2,100,000.00" not in anonymous
    assert "CN¥2,100,000.00" in own and "Your sealed bid is in" in own
    assert 'id="price"' in own and "Place sealed bid" in own


async def test_a_dutch_room_runs_the_clock_from_the_round_terms(app, actors):
    auction = await kind_auction(actors, [rnd("dutch", -1, 600, step="10000.00",
                                               interval_seconds=5, floor="1500000.00")])
    async with await page_client(app) as http:
        page = (await http.get(f"/auctions/{auction['id']}?lang=en")).text
    assert "Clock price" in page and 'data-kind="dutch"' in page
    assert 'data-dutch-step="10000.00"' in page and 'data-dutch-floor="1500000.00"' in page
    assert 'data-dutch-interval="5000"' in page


async def test_the_enterprise_console_shows_its_settlement_due(app, actors, client):
    auction = await kind_auction(actors, [rnd("english", -0.2, 3)])
    winner = await qualified_bidder(actors, auction["id"])
    other = await qualified_bidder(actors, auction["id"])
    assert (await bid(client, auction["id"], winner, amount="2000000.00")).status_code == 201
    result = await finish(app, client, auction["id"])
    assert result["settlement_id"]
    settlement = (await client.get(f"/api/v1/settlements/{result['settlement_id']}",
                                   headers=actors.admin.headers)).json()
    due = format_date(date.fromisoformat(settlement["due_date"]), "long", locale="en")
    async with await page_client(app) as http:
        await sign_in(http, winner.email)
        console = (await http.get("/console?lang=en")).text
        room = (await http.get(f"/auctions/{auction['id']}?lang=en")).text
    assert "Amount due" in console and due in console
    assert "CN¥2,000,000.00" in console  # hammer + 5% premium - the 100,000.00 deposit
    assert "Awaiting payment" in console
    assert "You won this lot." in room and "Sold to paddle" in room
    async with await page_client(app) as http:
        await sign_in(http, other.email)
        console = (await http.get("/console?lang=en")).text
        room = (await http.get(f"/auctions/{auction['id']}?lang=en")).text
    assert "No settlement yet." in console and "standing-won" not in room
    assert "The auction is closed." in room  # he never bid: closed, not lost
