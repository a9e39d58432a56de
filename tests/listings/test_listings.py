"""Listings over HTTP: creation, reading by role, reserve secrecy, validation, filters, pages."""

import base64
import re

import pytest
from sqlalchemy import update

from app.listings.models import Listing, ListingStatus
from app.security import Role
from tests.support.pages import each_page

API = "/api/v1"
TITLE = "Design and development of a medium-power new-energy simulation test platform"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ROLES = ("admin", "owner", "other", "enterprise", "auditor", "anonymous")
STATUSES = [s.value for s in ListingStatus]
# How each status is reached: through the API where it can be, else set in the database
# (auctions move listings to in_auction, sold and unsold).
ROUTE = {
    "draft": [], "pending_review": ["submit"], "approved": ["submit", "approve"],
    "rejected": ["submit", "reject"], "withdrawn": ["withdraw"],
    "in_auction": ["submit", "approve"], "sold": ["submit", "approve"],
    "unsold": ["submit", "approve"],
}


DROP = object()


def listing_body(**overrides) -> dict:
    """A valid create body; pass NAME=DROP to leave a field out."""
    body = {
        "title": TITLE, "summary": "A 500 kW grid and battery simulation bench.",
        "field": "new_energy", "ip_type": "patent", "patent_numbers": ["CN202310001234.5"],
        "trl": 6, "transfer_mode": "assignment", "starting_price": "2480000.00",
        "reserve_price": "3000000.00", "currency": "CNY",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not DROP}


def headers(actor) -> dict:
    return actor.headers if actor is not None else {}


async def act(client, actor, listing_id: int, action: str, body: dict | None = None):
    """Take a lifecycle action (edit = PATCH) as the actor (None = anonymous)."""
    if action == "edit":
        return await client.patch(f"{API}/listings/{listing_id}",
                                  json=body or {"summary": "Edited summary."}, headers=headers(actor))
    if action == "reject" and body is None:
        body = {"reason": "Patent CN202310001234.5 is not in force."}
    return await client.post(f"{API}/listings/{listing_id}/{action}", json=body,
                             headers=headers(actor))


async def force_status(app, listing_id: int, status: str) -> None:
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(Listing).where(Listing.id == listing_id).values(status=ListingStatus(status))
        )
        await session.commit()


async def make_listing(actors, owner, status: str = "draft", app=None, **overrides) -> dict:
    """A listing of the owner's institute, driven (as its owner and admin) to the status."""
    client = actors.client
    response = await client.post(f"{API}/listings", json=listing_body(**overrides),
                                 headers=owner.headers)
    assert response.status_code == 201, response.text
    listing_id = response.json()["id"]
    for action in ROUTE[status]:
        actor = actors.admin if action in ("approve", "reject") else owner
        step = await act(client, actor, listing_id, action)
        assert step.status_code == 200, step.text
    if status in ("in_auction", "sold", "unsold"):
        await force_status(app, listing_id, status)
    return await read(actors, listing_id)


async def read(actors, listing_id: int) -> dict:
    response = await actors.client.get(f"{API}/listings/{listing_id}", headers=actors.admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def all_listings(actors) -> list[dict]:
    page = await actors.client.get(f"{API}/listings", params={"limit": 1000},
                                   headers=actors.admin.headers)
    assert page.status_code == 200
    return page.json()["items"]


def assert_problem(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert response.json()["code"] == code, response.text


async def assert_refused(actors, response, before: dict, status: int, code: str | None) -> None:
    """The call was refused and the listing is exactly as it was."""
    assert_problem(response, status, code)
    assert await read(actors, before["id"]) == before


async def cast(actors) -> dict:
    """One caller of every kind; 'owner' and 'other' are two different institutes."""
    return {
        "admin": actors.admin, "owner": await actors.user(Role.institute),
        "other": await actors.user(Role.institute), "enterprise": await actors.user(Role.enterprise),
        "auditor": await actors.user(Role.auditor), "anonymous": None,
    }


async def test_create_returns_the_draft(actors, client):
    owner = await actors.user(Role.institute)
    response = await client.post(f"{API}/listings", json=listing_body(starting_price="2480000",
                                 reserve_price="2480000.5"), headers=owner.headers)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft" and body["organization_id"] == owner.organization_id
    assert body["title"] == TITLE and body["field"] == "new_energy" and body["trl"] == 6
    assert body["starting_price"] == "2480000.00" and body["reserve_price"] == "2480000.50"
    assert body["currency"] == "CNY" and body["patent_numbers"] == ["CN202310001234.5"]
    assert body["rejection_reason"] is None
    assert body["submitted_at"] is None and body["reviewed_at"] is None
    assert TIMESTAMP.match(body["created_at"]) and TIMESTAMP.match(body["updated_at"])
    assert await read(actors, body["id"]) == body
    minimal = listing_body(reserve_price=DROP, patent_numbers=DROP, currency=DROP,
                           starting_price="1000000000000.00")
    made = (await client.post(f"{API}/listings", json=minimal, headers=owner.headers)).json()
    assert made["reserve_price"] is None and made["patent_numbers"] == []
    assert made["currency"] == "CNY" and made["starting_price"] == "1000000000000.00"


@pytest.mark.parametrize(("who", "status", "code"), [
    ("admin", 403, "forbidden_role"), ("enterprise", 403, "forbidden_role"),
    ("auditor", 403, "forbidden_role"), ("anonymous", 401, "unauthenticated"),
])
async def test_only_institutes_create(actors, client, who, status, code):
    caller = (await cast(actors))[who]
    response = await client.post(f"{API}/listings", json=listing_body(), headers=headers(caller))
    assert_problem(response, status, code)
    assert await all_listings(actors) == []


@pytest.mark.parametrize("status", STATUSES)
async def test_who_reads_what(actors, client, app, status):
    people = await cast(actors)
    listing = await make_listing(actors, people["owner"], status, app=app)
    if status == "rejected":
        assert listing["rejection_reason"]
    public = status in ("approved", "in_auction", "sold", "unsold")
    for who in ROLES:
        sees_all = who in ("admin", "owner", "auditor")
        one = await client.get(f"{API}/listings/{listing['id']}", headers=headers(people[who]))
        page = await client.get(f"{API}/listings", headers=headers(people[who]))
        assert page.status_code == 200
        if not (public or sees_all):
            assert_problem(one, 404, "listing_not_found")
            assert page.json() == {"items": [], "next_cursor": None}, who
            continue
        expected = listing if sees_all else {**listing, "reserve_price": None}
        assert one.status_code == 200 and one.json() == expected, who
        assert page.json() == {"items": [expected], "next_cursor": None}, who


async def test_institute_lists_public_and_all_its_own(actors, client, app):
    people = await cast(actors)
    own = {s: await make_listing(actors, people["owner"], s, app=app) for s in STATUSES}
    theirs = {s: await make_listing(actors, people["other"], s, app=app) for s in STATUSES}
    page = (await client.get(f"{API}/listings", headers=people["owner"].headers)).json()
    public = [theirs[s] for s in ("approved", "in_auction", "sold", "unsold")]
    expected = [*own.values(), *({**t, "reserve_price": None} for t in public)]
    assert page["items"] == sorted(expected, key=lambda x: -x["id"])
    for staff in ("admin", "auditor"):
        items = (await client.get(f"{API}/listings", headers=people[staff].headers)).json()["items"]
        assert len(items) == 16 and all(i["reserve_price"] == "3000000.00" for i in items)


async def test_unknown_and_malformed_ids(actors, client):
    owner = await actors.user(Role.institute)
    for actor, action in ((owner, "edit"), (owner, "submit"), (actors.admin, "approve"),
                          (actors.admin, "reject"), (owner, "withdraw")):
        assert_problem(await act(client, actor, 999999, action), 404, "listing_not_found")
    assert_problem(await client.get(f"{API}/listings/999999"), 404, "listing_not_found")
    for bad in ("0", "-1", "abc", str(2**63), "1.5"):
        assert_problem(await client.get(f"{API}/listings/{bad}"), 422, "validation_error")


BAD_CREATE = {
    "unknown field": {"organization_id": 1},
    "status field": {"status": "approved"},
    "title wrong type": {"title": 123},
    "title too short": {"title": "  ab  "},
    "title too long": {"title": "x" * 201},
    "summary blank": {"summary": "   "},
    "trl as text": {"trl": "seven"},
    "trl as bool": {"trl": True},
    "trl fractional": {"trl": 6.5},
    "trl 0": {"trl": 0},
    "trl 10": {"trl": 10},
    "ip_type": {"ip_type": "trade_secret"},
    "transfer_mode": {"transfer_mode": "lease"},
    "field upper": {"field": "New_Energy"},
    "field spaces": {"field": "new energy"},
    "field long": {"field": "a" * 41},
    "patent_numbers str": {"patent_numbers": "CN1"},
    "patent_numbers bad": {"patent_numbers": ["CN<script>"]},
    "patent_numbers many": {"patent_numbers": [f"CN{i}" for i in range(101)]},
    "currency": {"currency": "USD"},
    "money number": {"starting_price": 2480000},
    "money float": {"starting_price": 2480000.5},
    "money zero": {"starting_price": "0.00", "reserve_price": None},
    "money negative": {"starting_price": "-1.00"},
    "money 3 places": {"starting_price": "1.005"},
    "money too big": {"starting_price": "1000000000000.01", "reserve_price": None},
    "money exponent": {"starting_price": "1e3"},
    "money nan": {"starting_price": "NaN"},
    "money infinity": {"reserve_price": "Infinity"},
    "money spaces": {"starting_price": " 10.00"},
    "money comma": {"starting_price": "2,480,000.00"},
    "reserve below start": {"reserve_price": "2479999.99"},
    "missing title": {"title": DROP},
    "missing price": {"starting_price": DROP},
    "null title": {"title": None},
    "null trl": {"trl": None},
    "title NUL": {"title": "abc\x00def"},  # PostgreSQL text cannot hold it (fuzzing)
    "summary NUL": {"summary": "\x00"},
}


@pytest.mark.parametrize("change", BAD_CREATE.values(), ids=BAD_CREATE.keys())
async def test_bad_create_bodies_are_422(actors, client, change):
    owner = await actors.user(Role.institute)
    response = await client.post(f"{API}/listings", json=listing_body(**change),
                                 headers=owner.headers)
    assert_problem(response, 422, "validation_error")
    assert await all_listings(actors) == []


async def test_huge_and_non_json_bodies_create_nothing(actors, client):
    owner = await actors.user(Role.institute)
    huge = await client.post(f"{API}/listings", json=listing_body(title="x" * 10_000_000),
                             headers=owner.headers)
    assert_problem(huge, 413, "payload_too_large")
    garbage = await client.post(f"{API}/listings", content=b"{not json",
                                headers={**owner.headers, "content-type": "application/json"})
    assert_problem(garbage, 422)
    for raw in (b"\xff", b'{"title": "\xe9t\xe9"}'):  # JSON that is not UTF-8 (found by fuzzing)
        not_utf8 = await client.post(f"{API}/listings", content=raw,
                                     headers={**owner.headers, "content-type": "application/json"})
        assert_problem(not_utf8, 422, "validation_error")
    assert await all_listings(actors) == []


BAD_PATCH = {
    "unknown": {"colour": "red"},
    "status": {"status": "approved"},
    "owner": {"organization_id": 1},
    "null title": {"title": None},
    "null trl": {"trl": None},
    "null price": {"starting_price": None},
    "trl 10": {"trl": 10},
    "money number": {"starting_price": 5},
    "money 3 places": {"reserve_price": "3000000.001"},
    "reserve below start": {"reserve_price": "1.00"},
    "start above reserve": {"starting_price": "3000000.01"},
    "both inverted": {"starting_price": "10.00", "reserve_price": "9.99"},
}


@pytest.mark.parametrize("body", BAD_PATCH.values(), ids=BAD_PATCH.keys())
async def test_bad_patches_are_422_and_change_nothing(actors, client, body):
    owner = await actors.user(Role.institute)
    before = await make_listing(actors, owner)
    response = await client.patch(f"{API}/listings/{before['id']}", json=body, headers=owner.headers)
    await assert_refused(actors, response, before, 422, None)
    assert response.json()["code"] in ("validation_error", "reserve_below_start")


async def test_patch_changes_only_given_fields(actors, client):
    owner = await actors.user(Role.institute)
    before = await make_listing(actors, owner)
    response = await client.patch(f"{API}/listings/{before['id']}", headers=owner.headers,
                                  json={"trl": 7, "reserve_price": None, "starting_price": "99.5"})
    assert response.status_code == 200
    after = response.json()
    assert after == {**before, "trl": 7, "reserve_price": None, "starting_price": "99.50",
                     "updated_at": after["updated_at"]}
    assert after["updated_at"] >= before["updated_at"] and await read(actors, before["id"]) == after


async def test_filters(actors, client, app):
    people = await cast(actors)
    owner, other = people["owner"], people["other"]
    a = await make_listing(actors, owner, "approved", title="Solar inverter", trl=3)
    b = await make_listing(actors, owner, "draft", title="Gene sequencer", field="biomedicine",
                           ip_type="know_how", trl=9)
    c = await make_listing(actors, other, "approved", title="100% solar_cell line",
                           transfer_mode="exclusive_license", ip_type="software_copyright")
    d = await make_listing(actors, other, "in_auction", app=app, title="solarXcell path\\to",
                           transfer_mode="non_exclusive_license", trl=1)
    cases = {
        (("status", "approved"),): [c, a], (("status", "draft"),): [b],
        (("field", "biomedicine"),): [b], (("field", "new_energy"),): [d, c, a],
        (("ip_type", "know_how"),): [b], (("ip_type", "patent"),): [d, a],
        (("transfer_mode", "exclusive_license"),): [c],
        (("institute", owner.organization_id),): [b, a],
        (("trl_min", 6),): [c, b], (("trl_max", 3),): [d, a],
        (("trl_min", 3), ("trl_max", 6)): [c, a], (("trl_min", 7), ("trl_max", 2)): [],
        (("q", "SOLAR"),): [d, c, a], (("q", "%"),): [c], (("q", "_"),): [c],
        (("q", "r_c"),): [c], (("q", "r%c"),): [], (("q", "\\"),): [d],
        (("q", "solar"), ("institute", other.organization_id), ("status", "approved")): [c],
    }
    for params, expected in cases.items():
        page = await client.get(f"{API}/listings", params=dict(params), headers=actors.admin.headers)
        assert page.status_code == 200, params
        assert [i["id"] for i in page.json()["items"]] == [x["id"] for x in expected], params
    anonymous = await client.get(f"{API}/listings", params={"status": "draft"})
    assert anonymous.json()["items"] == []
    mine = await client.get(f"{API}/listings", params={"status": "draft"}, headers=owner.headers)
    assert [i["id"] for i in mine.json()["items"]] == [b["id"]]


@pytest.mark.parametrize("params", [
    {"status": "bogus"}, {"ip_type": "x"}, {"transfer_mode": "lease"}, {"trl_min": 0},
    {"trl_max": 10}, {"trl_min": "x"}, {"institute": 0}, {"q": ""}, {"q": "x" * 201},
    {"field": "f" * 41}, {"limit": 0}, {"limit": 1001}, {"limit": "ten"},
    {"q": "a\x00"}, {"field": "new\x00energy"},
])
async def test_bad_query_parameters_are_422(client, params):
    response = await client.get(f"{API}/listings", params=params)
    assert_problem(response, 422, "validation_error")


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", ["!!", "%%%", b64("id:"), b64("x:5"), b64("id:-1"),
                                    b64("id:abc"), b64("id:" + "9" * 20), b64("id:1:2"),
                                    "c" * 65])
async def test_bad_cursor_is_422(client, cursor):
    response = await client.get(f"{API}/listings", params={"cursor": cursor})
    assert_problem(response, 422, "invalid_cursor")


async def test_cursor_pagination(actors, client):
    owner = await actors.user(Role.institute)
    made = [await make_listing(actors, owner, "approved" if i % 2 else "draft") for i in range(9)]
    for viewer, ids in ((actors.admin, [m["id"] for m in made]),
                        (None, [m["id"] for m in made if m["status"] == "approved"])):
        for limit in (1, 2, 3, len(ids), 1000):
            seen, pages = [], 0
            async for body in each_page(client, f"{API}/listings", headers(viewer), limit):
                assert 0 < len(body["items"]) <= limit
                seen += [i["id"] for i in body["items"]]
                pages += 1
            assert seen == sorted(ids, reverse=True)
            assert pages == -(-len(ids) // limit)
    default = (await client.get(f"{API}/listings", headers=actors.admin.headers)).json()
    assert len(default["items"]) == 9 and default["next_cursor"] is None
