"""An institute trying to register for or bid on its own listing is told so (403 own_listing);
on any other auction, and to every other role, the refusal is the role's (forbidden_role)."""

from app.security import Role
from tests.support.auctions import API, approved_listing, create_auction


def refused(response, code: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code, response.text


async def test_own_listing_is_refused_by_name(actors, client):
    owner = await actors.user(Role.institute)
    colleague = await actors.user(Role.institute, organization_id=owner.organization_id)
    other = await actors.user(Role.institute)
    auditor = await actors.user(Role.auditor)
    own = await create_auction(actors, listing_id=await approved_listing(actors, owner))
    theirs = await create_auction(actors)
    bid = {"amount": "3000000.00"}
    for who in (owner, colleague):  # the organisation's listing, whoever of it asks
        refused(await client.post(f"{API}/auctions/{own['id']}/registrations", headers=who.headers),
                "own_listing")
        refused(await client.post(f"{API}/auctions/{own['id']}/bids", json=bid, headers=who.headers),
                "own_listing")
    for who, auction_id in ((other, own["id"]), (auditor, own["id"]), (actors.admin, own["id"]),
                            (owner, theirs["id"]), (owner, 999999), (owner, "x")):
        refused(await client.post(f"{API}/auctions/{auction_id}/registrations", headers=who.headers),
                "forbidden_role")
        refused(await client.post(f"{API}/auctions/{auction_id}/bids", json=bid, headers=who.headers),
                "forbidden_role")
    listed = (await client.get(f"{API}/auctions/{own['id']}/registrations",
                               headers=actors.admin.headers)).json()
    assert listed["items"] == []
