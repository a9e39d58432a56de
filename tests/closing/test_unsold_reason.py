"""Why an unsold auction did not sell (no_bids, reserve_not_met): told to the listing's
institute, admin and auditor only; null for everyone else and for a sold auction."""

from app.closing.closer import close_auction
from app.security import Role
from tests.support.auctions import API, approved_listing, create_auction, qualified_bidder
from tests.support.live import ms, sleep_until


async def closed(actors, client, app, *, reserve: str | None, bids: list[str]) -> tuple[dict, object]:
    """An english auction closed after the bids (each by a new qualified enterprise)."""
    institute = await actors.user(Role.institute)
    listing_id = await approved_listing(actors, institute, reserve_price=reserve)
    auction = await create_auction(actors, listing_id=listing_id, starts_in=0, lasts=2)
    for amount in bids:
        bidder = await qualified_bidder(actors, auction["id"])
        bid = await client.post(f"{API}/auctions/{auction['id']}/bids", json={"amount": amount},
                                headers=bidder.headers)
        assert bid.status_code == 201, bid.text
    await sleep_until(client, auction["id"], ms(auction["ends_at"]))
    assert await close_auction(app.state.engine, app.state.sessionmaker, auction["id"])
    return auction, institute


async def test_unsold_reason_is_told_to_owner_admin_and_auditor_only(actors, client, app):
    auditor = await actors.user(Role.auditor)
    stranger = await actors.user(Role.institute)
    enterprise = await actors.user(Role.enterprise)
    cases = (("2500000.00", [], "no_bids"), ("2500000.00", ["2000000.00"], "reserve_not_met"),
             (None, ["2000000.00"], None))
    for reserve, bids, reason in cases:
        auction, owner = await closed(actors, client, app, reserve=reserve, bids=bids)
        url = f"{API}/auctions/{auction['id']}/result"
        for who in (owner, actors.admin, auditor):
            result = (await client.get(url, headers=who.headers)).json()
            assert result["unsold_reason"] == reason, (who.role, result)
            assert result["outcome"] == ("sold" if reason is None else "unsold")
        for headers in (stranger.headers, enterprise.headers, {}):
            result = (await client.get(url, headers=headers)).json()
            assert result["unsold_reason"] is None, result
