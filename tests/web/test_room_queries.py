"""The room page's per-request work: describe's read of the listing by id comes from the
session (the room view holds the row of its visibility-checked read), for a visitor and a
bidder: every listing statement the page sends is a visibility-checked one."""

from contextlib import contextmanager

from sqlalchemy import event

from tests.support.auctions import qualified_bidder
from tests.support.kinds import bid, kind_auction, rnd
from tests.web.pages import page_client, sign_in


@contextmanager
def statements(app):
    """The SQL statements the app sends while inside."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    engine = app.state.db_engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_the_room_reads_its_listing_only_through_visibility_checks(app, actors, client):
    auction = await kind_auction(actors, [rnd("english", -0.5, 600)], title="A lot read once")
    bidder = await qualified_bidder(actors, auction["id"])
    assert (await bid(client, auction["id"], bidder, amount="2000000.00")).status_code == 201
    for who in (None, bidder):
        async with await page_client(app) as http:
            if who is not None:
                await sign_in(http, who.email)
            with statements(app) as sent:
                room = await http.get(f"/auctions/{auction['id']}?lang=en")
            assert room.status_code == 200 and "A lot read once" in room.text
            listing_reads = [s for s in sent if "FROM listings" in s]
            assert listing_reads and all("listings.status IN" in s for s in listing_reads), sent
