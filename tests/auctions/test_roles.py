"""Every auction endpoint with every role, and bad input: refusals are 4xx and change nothing."""

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from app.closing.closer import close_due
from app.security import Role
from tests.support.actors import Actor
from tests.support.auctions import API, LISTING, approved_listing, create_auction, iso
from tests.support.live import (
    auction_body,
    english_round,
    enterprises,
    later,
    ms,
    qualify_all,
    sleep_until,
)
from tests.support.pages import all_pages

RESERVE = "2500000.00"
ROLES = ("admin", "owner", "institute", "outsider", "auditor", "anonymous")


@dataclass
class World:
    auction: dict
    listing_id: int
    admin: Actor
    owner: Actor  # the listing's institute
    institute: Actor  # another institute
    auditor: Actor
    qualified: Actor  # registered, qualified, has bid
    pending: Actor  # registered, pending
    outsider: Actor  # an enterprise that never registered
    qualified_reg: dict
    pending_reg: dict
    bid: dict

    @property
    def id(self) -> int:
        return self.auction["id"]

    def headers(self, who: str) -> dict:
        if who == "anonymous":
            return {}
        return getattr(self, who).headers


async def build_world(actors, client, *, lasts: float = 120) -> World:
    owner = await actors.user(Role.institute)
    listing_id = await approved_listing(actors, owner, reserve_price=RESERVE)
    auction = await create_auction(actors, listing_id=listing_id, lasts=lasts)
    qualified, pending, outsider = await enterprises(actors, 3)
    await qualify_all(client, actors.admin, auction["id"], [qualified])
    (qualified_reg,) = await all_pages(client, f"{API}/auctions/{auction['id']}/registrations",
                                       actors.admin.headers)
    pending_reg = await client.post(f"{API}/auctions/{auction['id']}/registrations",
                                    headers=pending.headers)
    assert pending_reg.status_code == 201
    bid = await client.post(f"{API}/auctions/{auction['id']}/bids", json={"amount": "2000000.00"},
                            headers=qualified.headers)
    assert bid.status_code == 201, bid.text
    return World(
        auction=auction, listing_id=listing_id, admin=actors.admin, owner=owner,
        institute=await actors.user(Role.institute), auditor=await actors.user(Role.auditor),
        qualified=qualified, pending=pending, outsider=outsider, qualified_reg=qualified_reg,
        pending_reg=pending_reg.json(), bid=bid.json(),
    )


async def everything(client, world: World) -> dict:
    """What a refusal must leave untouched, as admin sees it."""
    admin = world.admin.headers
    state = (await client.get(f"{API}/auctions/{world.id}", headers=admin)).json()
    for volatile in ("server_time",):
        state.pop(volatile)
    return {
        "auction": state,
        "auctions": [a["id"] for a in await all_pages(client, f"{API}/auctions", admin)],
        "registrations": await all_pages(client, f"{API}/auctions/{world.id}/registrations", admin),
        "bids": await all_pages(client, f"{API}/auctions/{world.id}/bids", admin),
        "listing": (await client.get(f"{API}/listings/{world.listing_id}", headers=admin)).json(),
    }


def refused(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert response.json()["code"] == code, response.text


STAFF_ONLY = {"admin": 0, "owner": 403, "institute": 403, "outsider": 403, "auditor": 403,
              "anonymous": 401}


async def test_reading_auctions_shows_the_reserve_only_to_owner_admin_auditor(actors, client):
    world = await build_world(actors, client)
    for who in ROLES:
        headers = world.headers(who)
        one = await client.get(f"{API}/auctions/{world.id}", headers=headers)
        assert one.status_code == 200, (who, one.text)
        listed = await client.get(f"{API}/auctions", headers=headers)
        assert listed.status_code == 200
        (item,) = [a for a in listed.json()["items"] if a["id"] == world.id]
        sees = who in ("admin", "owner", "auditor")
        for body in (one.json(), item):
            assert body["reserve_price"] == (RESERVE if sees else None), who
            assert body["leading_paddle"] == world.bid["paddle"]
            assert body["current_price"] == "2000000.00" and body["status"] == "open"
    missing = await client.get(f"{API}/auctions/999999")
    refused(missing, 404, "auction_not_found")


async def test_only_admin_creates_auctions(actors, client):
    world = await build_world(actors, client)
    listing_id = await approved_listing(actors, world.owner)
    body = auction_body(listing_id, starts_at=later(-1), ends_at=later(60))
    before = await everything(client, world)
    for who, status in STAFF_ONLY.items():
        if status:
            refused(await client.post(f"{API}/auctions", json=body, headers=world.headers(who)),
                    status)
    assert await everything(client, world) == before
    listing = (await client.get(f"{API}/listings/{listing_id}", headers=world.admin.headers)).json()
    assert listing["status"] == "approved"
    created = await client.post(f"{API}/auctions", json=body, headers=world.admin.headers)
    assert created.status_code == 201 and created.json()["reserve_price"] is None


async def test_registration_endpoints_by_role(actors, client):
    world = await build_world(actors, client)
    base = f"{API}/auctions/{world.id}/registrations"
    before = await everything(client, world)
    # Only enterprises register.
    for who in ("admin", "owner", "institute", "auditor", "anonymous"):
        refused(await client.post(base, headers=world.headers(who)),
                401 if who == "anonymous" else 403)
    # Only admin approves or rejects.
    pending = world.pending_reg["id"]
    for who in ("owner", "institute", "auditor", "anonymous", "pending", "qualified"):
        status = 401 if who == "anonymous" else 403
        refused(await client.post(f"{base}/{pending}/approve", json={"deposit_reference": "D-X"},
                                  headers=world.headers(who)), status)
        refused(await client.post(f"{base}/{pending}/reject", headers=world.headers(who)), status)
    assert await everything(client, world) == before

    # Reading: staff see all, an enterprise its own, an institute none, anonymous must sign in.
    all_ids = {world.qualified_reg["id"], pending}
    for who, expected in (("admin", all_ids), ("auditor", all_ids),
                          ("pending", {pending}), ("outsider", set())):
        listed = await client.get(base, headers=world.headers(who))
        assert listed.status_code == 200
        assert {r["id"] for r in listed.json()["items"]} == expected, who
    for who in ("owner", "institute"):
        listed = await client.get(base, headers=world.headers(who))
        assert listed.status_code == 403 or listed.json()["items"] == [], who
    refused(await client.get(base), 401)
    for who in ("admin", "auditor", "pending"):
        one = await client.get(f"{base}/{pending}", headers=world.headers(who))
        assert one.status_code == 200 and one.json()["status"] == "pending"
    for who in ("qualified", "outsider", "owner", "institute"):
        refused(await client.get(f"{base}/{pending}", headers=world.headers(who)), 404,
                "registration_not_found")
    refused(await client.get(f"{base}/{pending}"), 401)
    refused(await client.get(f"{API}/auctions/999999/registrations/{pending}",
                             headers=world.admin.headers), 404)

    rejected = await client.post(f"{base}/{pending}/reject", headers=world.admin.headers)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["paddle"] is None


async def test_bid_endpoints_by_role(actors, client):
    world = await build_world(actors, client)
    bids = f"{API}/auctions/{world.id}/bids"
    before = await everything(client, world)
    for who in ("admin", "owner", "institute", "auditor", "anonymous"):
        refused(await client.post(bids, json={"amount": "3000000.00"}, headers=world.headers(who)),
                401 if who == "anonymous" else 403)
    for who in ("pending", "outsider"):
        refused(await client.post(bids, json={"amount": "3000000.00"}, headers=world.headers(who)),
                409, "not_qualified")
    refused(await client.post(f"{API}/auctions/999999/bids", json={"amount": "3000000.00"},
                              headers=world.qualified.headers), 404)
    assert await everything(client, world) == before

    for who in ("admin", "owner", "institute", "auditor", "anonymous", "qualified", "outsider"):
        page = await client.get(bids, headers=world.headers(who))
        assert page.status_code == 200
        (bid,) = page.json()["items"]
        assert bid["paddle"] == world.bid["paddle"] and bid["amount"] == "2000000.00"
        staff = who in ("admin", "auditor")
        assert bid["organization_id"] == (world.qualified.organization_id if staff else None), who
    assert world.bid.get("organization_id") is None


async def test_events_by_role_and_bad_last_event_id(actors, client, app):
    world = await build_world(actors, client, lasts=3)
    await sleep_until(client, world.id, ms(world.auction["ends_at"]))
    await close_due(app.state.engine, app.state.sessionmaker)
    for who in ("admin", "owner", "institute", "auditor", "anonymous", "qualified"):
        stream = await client.get(f"{API}/auctions/{world.id}/events", headers=world.headers(who))
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert [line for line in stream.text.splitlines() if line.startswith("event:")] == [
            "event: bid", "event: round_closed", "event: closed"]
    refused(await client.get(f"{API}/auctions/{world.id}/events",
                             headers={"Last-Event-ID": "not-an-id"}), 422)
    refused(await client.get(f"{API}/auctions/999999/events"), 404)


# ---------------------------------------------------------------------------- bad input
def _bad_bodies(listing_id: int) -> list[tuple[dict, int, str | None]]:
    good = auction_body(listing_id, starts_at=later(-1), ends_at=later(60),
                        hard_close_at=later(90))
    rnd = good["rounds"][0]
    naive = later(10).replace(tzinfo=None).isoformat()
    return [
        (good | {"colour": "red"}, 422, "validation_error"),
        (good | {"rounds": [rnd | {"step": "1.00"}]}, 422, "dutch_params_not_allowed"),
        (good | {"rounds": [rnd | {"step": "-1.00"}]}, 422, "validation_error"),
        (good | {"rounds": [rnd | {"interval_ms": 1, "interval_seconds": 1}]}, 422,
         "validation_error"),
        (good | {"rounds": [rnd | {"advance": 0}]}, 422, "validation_error"),
        (good | {"rounds": [rnd | {"advance": 3}]}, 422, "advance_on_final_round"),
        (good | {"anti_sniping": good["anti_sniping"] | {"x": 1}}, 422, "validation_error"),
        (good | {"bid_increment": 10000}, 422, "validation_error"),
        (good | {"bid_increment": 10000.5}, 422, "validation_error"),
        (good | {"deposit_amount": "100.001"}, 422, "validation_error"),
        (good | {"bid_increment": "0.00"}, 422, "validation_error"),
        (good | {"bid_increment": "1000000000000.01"}, 422, "validation_error"),
        (good | {"buyer_premium_rate": "1.5"}, 422, "validation_error"),
        (good | {"seller_commission_rate": "1.0001"}, 422, "validation_error"),
        (good | {"buyer_premium_rate": 0.05}, 422, "validation_error"),
        (good | {"rounds": [rnd | {"ends_at": iso(later(-5))}]}, 422, "validation_error"),
        (good | {"rounds": [rnd | {"kind": "bogus"}]}, 422, "validation_error"),
        (good | {"rounds": [rnd | {"starts_at": naive}]}, 422, "validation_error"),
        (good | {"rounds": [rnd | {"ends_at": naive}]}, 422, "validation_error"),
        (good | {"anti_sniping": {"hard_close_at": naive}}, 422, "validation_error"),
        (good | {"rounds": [rnd | {"starts_at": "tomorrow"}]}, 422, "validation_error"),
        # instants datetime cannot hold in UTC, or too close to year 9999 to extend (fuzzing)
        (good | {"rounds": [rnd | {"starts_at": "0001-01-01T00:00:00+01:00"}]}, 422,
         "validation_error"),
        (good | {"rounds": [rnd | {"ends_at": "9999-12-31T23:59:59-01:00"}]}, 422,
         "validation_error"),
        (good | {"rounds": english_round(datetime(9999, 12, 30, tzinfo=UTC),
                                         datetime(9999, 12, 31, tzinfo=UTC))}, 422,
         "validation_error"),
        (good | {"anti_sniping": {"hard_close_at": "9999-12-31T23:59:59-01:00"}}, 422,
         "validation_error"),
        (good | {"rounds": []}, 422, "validation_error"),
        (good | {"anti_sniping": {"window_seconds": 3601}}, 422, "validation_error"),
        # numbers are JSON numbers: "7", true and 7.5 are no counts or ids
        (good | {"anti_sniping": {"window_seconds": "60"}}, 422, "validation_error"),
        (good | {"anti_sniping": {"extension_seconds": True}}, 422, "validation_error"),
        (good | {"payment_days": "30"}, 422, "validation_error"),
        (good | {"payment_days": 30.5}, 422, "validation_error"),
        (good | {"listing_id": str(listing_id)}, 422, "validation_error"),
        (good | {"rounds": [rnd | {"advance": "3"}]}, 422, "validation_error"),
        (good | {"anti_sniping": {"hard_close_at": iso(later(30))}}, 422, "validation_error"),
        (good | {"payment_days": 0}, 422, "validation_error"),
        (good | {"rounds": [rnd | {"kind": "dutch"}]}, 422, "dutch_params_required"),
        (good | {"rounds": [rnd | {"kind": "dutch", "step": "1000.00", "interval_seconds": 1,
                                   "floor": "9000000.00"}]}, 422, "floor_above_starting_price"),
        (good | {"rounds": english_round(later(-1), later(30)) + english_round(later(31), later(60))},
         422, "advance_required"),
        (good | {"rounds": [rnd | {"kind": "dutch", "step": "1.00", "interval_ms": 100,
                                   "floor": "1.00", "advance": 2},
                            *english_round(later(61), later(80))]}, 422, "dutch_not_final"),
        (good | {"rounds": english_round(later(-120), later(-60))}, 422, "round_in_past"),
        (good | {"listing_id": 999999}, 404, "listing_not_found"),
    ]


async def test_bad_auction_input_is_refused_and_changes_nothing(actors, client):
    world = await build_world(actors, client)
    listing_id = await approved_listing(actors, world.owner)
    draft = await client.post(f"{API}/listings", json=LISTING, headers=world.owner.headers)
    cases = [
        *_bad_bodies(listing_id),
        (auction_body(draft.json()["id"], starts_at=later(-1), ends_at=later(60)), 409,
         "listing_not_approved"),
        (auction_body(world.listing_id, starts_at=later(-1), ends_at=later(60)), 409,
         "listing_not_approved"),  # already in auction
    ]
    before = await everything(client, world)
    for body, status, code in cases:
        response = await client.post(f"{API}/auctions", json=body, headers=world.admin.headers)
        refused(response, status, code)
    assert await everything(client, world) == before
    listing = (await client.get(f"{API}/listings/{listing_id}", headers=world.admin.headers)).json()
    assert listing["status"] == "approved"


async def test_bad_bid_input_is_refused_and_changes_nothing(actors, client):
    world = await build_world(actors, client)
    (bidder,) = await enterprises(actors, 1)
    await qualify_all(client, actors.admin, world.id, [bidder])
    before = await everything(client, world)
    bids = f"{API}/auctions/{world.id}/bids"
    for amount in (2100000, 2100000.0, "2100000.001", "0.00", "-5.00", "1e7", "", " ", "abc",
                   "1000000000000.01", None, [], {"amount": "2100000.00"}):
        refused(await client.post(bids, json={"amount": amount}, headers=bidder.headers), 422)
    for body in ({}, {"amount": "2100000.00", "x": 1}, ["2100000.00"]):
        refused(await client.post(bids, json=body, headers=bidder.headers), 422)
    refused(await client.post(bids, content=b"{not json", headers=bidder.headers), 422)
    assert await everything(client, world) == before
    accepted = await client.post(bids, json={"amount": "2100000.00"}, headers=bidder.headers)
    assert accepted.status_code == 201


async def test_bad_registration_input_is_refused_and_changes_nothing(actors, client):
    world = await build_world(actors, client)
    base = f"{API}/auctions/{world.id}/registrations"
    pending = world.pending_reg["id"]
    used = world.qualified_reg["deposit_reference"]
    before = await everything(client, world)
    refused(await client.post(base, headers=world.pending.headers), 409, "already_registered")
    refused(await client.post(base, headers=world.qualified.headers), 409, "already_registered")
    refused(await client.post(f"{base}/{pending}/approve", json={"deposit_reference": used},
                              headers=world.admin.headers), 409, "deposit_already_used")
    for body in ({}, {"deposit_reference": ""}, {"deposit_reference": "has space"},
                 {"deposit_reference": "D-1", "x": 1}, {"deposit_reference": 12}):
        refused(await client.post(f"{base}/{pending}/approve", json=body,
                                  headers=world.admin.headers), 422)
    refused(await client.post(f"{base}/{world.qualified_reg['id']}/approve",
                              json={"deposit_reference": "D-NEW"}, headers=world.admin.headers),
            409, "invalid_transition")
    refused(await client.post(f"{base}/{world.qualified_reg['id']}/reject",
                              headers=world.admin.headers), 409, "invalid_transition")
    refused(await client.post(f"{base}/999999/approve", json={"deposit_reference": "D-NEW"},
                              headers=world.admin.headers), 404)
    assert await everything(client, world) == before

    # A deposit qualifies one registration, in any auction.
    other = await create_auction(actors)
    (stranger,) = await enterprises(actors, 1)
    reg = await client.post(f"{API}/auctions/{other['id']}/registrations", headers=stranger.headers)
    refused(await client.post(f"{API}/auctions/{other['id']}/registrations/{reg.json()['id']}"
                              "/approve", json={"deposit_reference": used},
                              headers=world.admin.headers), 409, "deposit_already_used")
    # The registration of one auction is not reachable through another.
    refused(await client.post(f"{API}/auctions/{other['id']}/registrations/{pending}/approve",
                              json={"deposit_reference": "D-NEW"}, headers=world.admin.headers), 404)
    approved = await client.post(f"{base}/{pending}/approve", json={"deposit_reference": "D-NEW"},
                                 headers=world.admin.headers)
    assert approved.status_code == 200 and approved.json()["status"] == "qualified"
    again = await client.post(f"{base}/{pending}/approve", json={"deposit_reference": "D-NEW2"},
                              headers=world.admin.headers)
    refused(again, 409, "invalid_transition")
    refused(await client.post(f"{base}/{pending}/reject", headers=world.admin.headers), 409)
    one = (await client.get(f"{base}/{pending}", headers=world.admin.headers)).json()
    assert one["paddle"] == approved.json()["paddle"] and one["deposit_reference"] == "D-NEW"


async def test_paddles_are_unique_and_not_in_registration_order(actors, client):
    auction = await create_auction(actors)
    bidders = await enterprises(actors, 30)
    paddles = []
    for bidder in bidders:  # one after the other: registration order is known
        paddles += (await qualify_all(client, actors.admin, auction["id"], [bidder])).values()
    assert len(set(paddles)) == 30
    numbers = [int(p) for p in paddles]
    assert numbers != sorted(numbers) and numbers != sorted(numbers, reverse=True)
    steps = {b - a for a, b in itertools.pairwise(numbers)}
    assert len(steps) > 1, "paddles advance by a constant step"
    assert min(numbers) >= 1000



async def test_racing_approvals_qualify_once(actors, client):
    auction = await create_auction(actors)
    base = f"{API}/auctions/{auction['id']}/registrations"
    one, two, three = await enterprises(actors, 3)
    regs = [(await client.post(base, headers=b.headers)).json()["id"] for b in (one, two, three)]
    admin = actors.admin.headers
    # The same registration approved twice at once: one 200, one 409.
    same = await asyncio.gather(*(
        client.post(f"{base}/{regs[0]}/approve", json={"deposit_reference": f"R-{i}"},
                    headers=admin) for i in range(2)
    ))
    assert sorted(r.status_code for r in same) == [200, 409], [r.text for r in same]
    # One deposit offered for two registrations at once: it qualifies only one of them.
    shared = await asyncio.gather(*(
        client.post(f"{base}/{rid}/approve", json={"deposit_reference": "R-SHARED"}, headers=admin)
        for rid in regs[1:]
    ))
    assert sorted(r.status_code for r in shared) == [200, 409], [r.text for r in shared]
    assert [r.json()["code"] for r in shared if r.status_code == 409] == ["deposit_already_used"]
    listed = await all_pages(client, base, admin)
    assert sorted(r["status"] for r in listed) == ["pending", "qualified", "qualified"]
    paddles = [r["paddle"] for r in listed if r["status"] == "qualified"]
    assert None not in paddles and len(set(paddles)) == 2


async def test_many_concurrent_approvals_all_succeed(actors, client):
    """Approvals of one auction queue on its row; none deadlocks, paddles stay unique."""
    auction = await create_auction(actors)
    base = f"{API}/auctions/{auction['id']}/registrations"
    bidders = await enterprises(actors, 24)
    regs = [(await client.post(base, headers=b.headers)).json()["id"] for b in bidders]
    approved = await asyncio.gather(*(
        client.post(f"{base}/{rid}/approve", json={"deposit_reference": f"MANY-{rid}"},
                    headers=actors.admin.headers) for rid in regs
    ))
    assert [r.status_code for r in approved] == [200] * 24, [r.text for r in approved]
    assert len({r.json()["paddle"] for r in approved}) == 24
