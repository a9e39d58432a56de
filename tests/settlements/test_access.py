"""Who reads and changes settlements: admin and auditor read all, an institute its listings',
an enterprise its own (others 404), each seeing buyer and seller; only admin changes anything.
Filters and pages."""

from datetime import UTC, datetime, timedelta

import pytest

from app.identity.models import Organization
from tests.accounts.support import registration_code
from tests.support.auctions import API
from tests.support.settlements import close, run_auction, sale_world, verify_ok


@pytest.fixture
async def world(app, actors):
    """One settled sale (winner bob, loser alice) plus outsiders of every role."""
    return await sale_world(app, actors, [("alice", "2000000.00"), ("bob", "2010000.00")])


READERS = {"admin": True, "auditor": True, "owner": True, "buyer": True,
           "other_institute": False, "loser": False, "outsider": False}


async def party(app, organization_id: int) -> dict:
    async with app.state.sessionmaker() as session:
        org = await session.get(Organization, organization_id)
    return {"organization_id": org.id, "name": org.name, "registration_code": org.registration_code}


async def test_read_matrix(app, client, world):
    s = world["settlement"]
    async with app.state.sessionmaker() as session, session.begin():
        for who in ("buyer", "owner"):
            (await session.get(Organization, world[who].organization_id)).registration_code = (
                registration_code())
    for who, may_read in READERS.items():
        headers = world[who].headers
        one = await client.get(f"{API}/settlements/{s['id']}", headers=headers)
        listed = (await client.get(f"{API}/settlements", headers=headers)).json()["items"]
        if not may_read:
            assert one.status_code == 404 and one.json()["code"] == "settlement_not_found", who
            assert listed == [], who
            continue
        assert one.status_code == 200 and [x["id"] for x in listed] == [s["id"]], who
        body = one.json()
        # every reader sees both parties: the institute its buyer, the buyer its seller
        assert body["buyer_organization_id"] == world["buyer"].organization_id, who
        assert body["buyer"] == await party(app, world["buyer"].organization_id), who
        assert body["buyer"]["registration_code"] and body["seller"]["registration_code"], who
        assert body["seller"] == await party(app, world["owner"].organization_id), who
        assert body["paddle"] == s["paddle"], who
        assert listed[0] == body


async def test_anonymous_gets_401(client, world):
    s = world["settlement"]
    assert (await client.get(f"{API}/settlements")).status_code == 401
    assert (await client.get(f"{API}/settlements/{s['id']}")).status_code == 401
    assert (await client.post(f"{API}/settlements/{s['id']}/complete")).status_code == 401


async def test_only_admin_changes_settlements(client, world):
    s = world["settlement"]
    for who in ("auditor", "owner", "buyer", "loser", "other_institute"):
        for action, body in (("confirm-payment", {"payment_reference": "TX-1"}),
                             ("complete", None), ("default", None)):
            response = await client.post(f"{API}/settlements/{s['id']}/{action}", json=body,
                                         headers=world[who].headers)
            assert response.status_code == 403, (who, action)
            assert response.json()["code"] == "forbidden_role"
    after = (await client.get(f"{API}/settlements/{s['id']}", headers=world["admin"].headers)).json()
    assert after == s
    await verify_ok(client, world["admin"].headers)


async def test_filters_and_pages(app, actors, client, world):
    first = world["settlement"]
    institute = world["owner"]
    sale = await run_auction(actors, [("carol", "2000000.00")], institute=institute)
    await close(app, client, sale.auction_id)
    other = await run_auction(actors, [("dave", "2000000.00")])
    await close(app, client, other.auction_id)
    admin = actors.admin.headers

    async def ids(**params):
        response = await client.get(f"{API}/settlements", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["items"]]

    everything = await ids()
    assert len(everything) == 3 and everything == sorted(everything, reverse=True)
    mine = await ids(institute=institute.organization_id)
    assert len(mine) == 2 and first["id"] in mine
    assert await ids(status="paid") == []
    paid = await client.post(f"{API}/settlements/{first['id']}/confirm-payment",
                             json={"payment_reference": "TX-9"}, headers=admin)
    assert paid.status_code == 200
    assert await ids(status="paid") == [first["id"]]
    assert len(await ids(status="pending_payment")) == 2
    now = datetime.now(UTC)
    assert len(await ids(**{"from": (now - timedelta(hours=1)).isoformat()})) == 3
    assert await ids(**{"from": (now + timedelta(hours=1)).isoformat()}) == []
    assert await ids(to=(now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")) == []
    shanghai = (now + timedelta(hours=1)).astimezone().isoformat()
    assert len(await ids(to=shanghai)) == 3
    # The institute's own view ignores another institute's filter value.
    own = await client.get(f"{API}/settlements", headers=institute.headers,
                           params={"institute": other.institute.organization_id})
    assert own.json()["items"] == []
    page1 = (await client.get(f"{API}/settlements", params={"limit": 2}, headers=admin)).json()
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    page2 = (await client.get(f"{API}/settlements", headers=admin,
                              params={"limit": 2, "cursor": page1["next_cursor"]})).json()
    assert [s["id"] for s in page1["items"] + page2["items"]] == everything
    assert page2["next_cursor"] is None
    await verify_ok(client, admin)


@pytest.mark.parametrize("params", [
    {"from": "2026-01-01T00:00:00"}, {"to": "yesterday"}, {"status": "lost"},
    {"institute": "0"}, {"limit": "0"}, {"limit": "1001"}, {"cursor": "nope"},
    # (from after to is an empty range, not an error: tests/core/test_hostile_input.py)
    {"from": "0001-01-01T00:00:00+01:00"}, {"to": "9999-12-31T23:59:59-01:00"},  # no UTC instant
])
async def test_bad_filters_are_422(client, actors, params):
    response = await client.get(f"{API}/settlements", params=params, headers=actors.admin.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("bad", ["0", "-1", "x", "99999999999999999999"])
async def test_bad_ids_are_422(client, actors, bad):
    response = await client.get(f"{API}/settlements/{bad}", headers=actors.admin.headers)
    assert response.status_code == 422
