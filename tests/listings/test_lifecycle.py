"""The listing lifecycle over HTTP: review, rejection, withdrawal, who may act, and races."""

import asyncio

import pytest

from app.security import Role
from tests.listings.test_listings import (
    API,
    STATUSES,
    TIMESTAMP,
    act,
    assert_problem,
    assert_refused,
    cast,
    headers,
    make_listing,
    read,
)

REASON = "Patent CN202310001234.5 lapsed in 2024; attach proof of renewal."
ACTIONS = ("edit", "submit", "approve", "reject", "withdraw")
# Hand-written from the product contract: from which status each action leads where.
ALLOWED = {
    "edit": {"draft": "draft", "rejected": "draft"},
    "submit": {"draft": "pending_review", "rejected": "pending_review"},
    "approve": {"pending_review": "approved"},
    "reject": {"pending_review": "rejected"},
    "withdraw": dict.fromkeys(("draft", "pending_review", "approved", "rejected"), "withdrawn"),
}
ACTOR = {"edit": "owner", "submit": "owner", "approve": "admin", "reject": "admin",
         "withdraw": "owner"}


async def test_draft_to_approved(actors, client):
    people = await cast(actors)
    owner = people["owner"]
    draft = await make_listing(actors, owner)
    submitted = await act(client, owner, draft["id"], "submit")
    assert submitted.status_code == 200
    pending = submitted.json()
    assert pending["status"] == "pending_review" and TIMESTAMP.match(pending["submitted_at"])
    assert pending["reviewed_at"] is None and pending["reserve_price"] == "3000000.00"
    assert (await client.get(f"{API}/listings/{draft['id']}")).status_code == 404
    approved = await act(client, actors.admin, draft["id"], "approve")
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "approved" and TIMESTAMP.match(body["reviewed_at"])
    assert body["submitted_at"] == pending["submitted_at"] and body["rejection_reason"] is None
    for who in ("anonymous", "enterprise", "other"):
        seen = await client.get(f"{API}/listings/{draft['id']}",
                                headers=headers(people[who]))
        assert seen.json() == {**body, "reserve_price": None}, who


async def test_reject_edit_resubmit(actors, client):
    people = await cast(actors)
    owner = people["owner"]
    pending = await make_listing(actors, owner, "pending_review")
    rejected = await act(client, actors.admin, pending["id"], "reject", {"reason": f"  {REASON} "})
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected" and rejected.json()["rejection_reason"] == REASON
    for who in ("owner", "admin", "auditor"):
        seen = await client.get(f"{API}/listings/{pending['id']}", headers=people[who].headers)
        assert seen.json()["rejection_reason"] == REASON, who
    for who in ("other", "enterprise", "anonymous"):
        hidden = await client.get(f"{API}/listings/{pending['id']}",
                                  headers=headers(people[who]))
        assert_problem(hidden, 404, "listing_not_found")
        listed = await client.get(f"{API}/listings", headers=headers(people[who]))
        assert listed.json()["items"] == []
    edited = await act(client, owner, pending["id"], "edit", {"patent_numbers": ["CN1", "CN2"]})
    assert edited.status_code == 200
    assert edited.json()["status"] == "draft" and edited.json()["rejection_reason"] is None
    assert edited.json()["patent_numbers"] == ["CN1", "CN2"]
    resubmitted = await act(client, owner, pending["id"], "submit")
    assert resubmitted.json()["status"] == "pending_review"
    assert resubmitted.json()["submitted_at"] >= pending["submitted_at"]
    assert (await act(client, actors.admin, pending["id"], "approve")).json()["status"] == "approved"


async def test_rejected_listing_can_be_resubmitted_unchanged(actors, client):
    owner = await actors.user(Role.institute)
    rejected = await make_listing(actors, owner, "rejected")
    again = await act(client, owner, rejected["id"], "submit")
    assert again.status_code == 200
    assert again.json()["status"] == "pending_review" and again.json()["rejection_reason"] is None


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
async def test_transition_table(actors, client, app, action, status):
    people = await cast(actors)
    before = await make_listing(actors, people["owner"], status, app=app)
    response = await act(client, people[ACTOR[action]], before["id"], action)
    target = ALLOWED[action].get(status)
    if target is None:
        await assert_refused(actors, response, before, 409, "invalid_transition")
        return
    assert response.status_code == 200, response.text
    after = await read(actors, before["id"])
    assert response.json() == after and after["status"] == target
    if action == "reject":
        assert after["rejection_reason"]
    elif action != "withdraw":
        assert after["rejection_reason"] is None
    if action == "edit":
        assert after["summary"] == "Edited summary."
    if action in ("approve", "reject"):
        assert after["reviewed_at"] is not None


@pytest.mark.parametrize("status", ["draft", "pending_review", "approved", "rejected"])
async def test_admin_withdraws_any_institutes_listing(actors, client, status):
    owner = await actors.user(Role.institute)
    before = await make_listing(actors, owner, status)
    response = await act(client, actors.admin, before["id"], "withdraw")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert (await client.get(f"{API}/listings/{before['id']}")).status_code == 404
    again = await act(client, owner, before["id"], "withdraw")
    await assert_refused(actors, again, await read(actors, before["id"]), 409, "invalid_transition")


NOT_FOUND, ROLE, OWNER, ANON = (
    (404, "listing_not_found"), (403, "forbidden_role"), (403, "not_owner"),
    (401, "unauthenticated"),
)
OK = (200, None)
# (action, listing status) -> caller -> (HTTP status, problem code)
ACCESS = {
    ("edit", "draft"): {"owner": OK, "other": NOT_FOUND, "enterprise": NOT_FOUND,
                        "auditor": ROLE, "admin": ROLE, "anonymous": ANON},
    ("edit", "approved"): {"other": OWNER, "enterprise": ROLE, "auditor": ROLE, "admin": ROLE},
    ("submit", "draft"): {"owner": OK, "other": NOT_FOUND, "enterprise": NOT_FOUND,
                          "auditor": ROLE, "admin": ROLE, "anonymous": ANON},
    ("submit", "approved"): {"other": OWNER, "enterprise": ROLE, "anonymous": ANON},
    ("approve", "pending_review"): {"admin": OK, "owner": ROLE, "other": ROLE, "enterprise": ROLE,
                                    "auditor": ROLE, "anonymous": ANON},
    ("reject", "pending_review"): {"admin": OK, "owner": ROLE, "other": ROLE, "enterprise": ROLE,
                                   "auditor": ROLE, "anonymous": ANON},
    ("withdraw", "pending_review"): {"owner": OK, "admin": OK, "other": NOT_FOUND,
                                     "enterprise": NOT_FOUND, "auditor": ROLE, "anonymous": ANON},
    ("withdraw", "approved"): {"owner": OK, "other": OWNER, "enterprise": ROLE, "auditor": ROLE,
                               "anonymous": ANON},
}
ACCESS_CASES = [(a, s, who, *res) for (a, s), row in ACCESS.items() for who, res in row.items()]


@pytest.mark.parametrize(("action", "status", "who", "http", "code"), ACCESS_CASES)
async def test_who_may_act(actors, client, action, status, who, http, code):
    people = await cast(actors)
    before = await make_listing(actors, people["owner"], status)
    response = await act(client, people[who], before["id"], action)
    if http != 200:
        await assert_refused(actors, response, before, http, code)
        if http == 401:
            assert response.headers["www-authenticate"] == "Bearer"
        return
    assert response.status_code == 200, response.text
    assert response.json() == await read(actors, before["id"])
    assert response.json()["status"] == ALLOWED[action][status]


@pytest.mark.parametrize("body", [
    None, {}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 2001}, {"reason": 5},
    {"reason": "ok", "status": "approved"},
])
async def test_reject_needs_a_reason(actors, client, body):
    owner = await actors.user(Role.institute)
    before = await make_listing(actors, owner, "pending_review")
    response = await client.post(f"{API}/listings/{before['id']}/reject", json=body,
                                 headers=actors.admin.headers)
    await assert_refused(actors, response, before, 422, "validation_error")


async def test_refused_edit_of_rejected_listing_keeps_it_rejected(actors, client):
    owner = await actors.user(Role.institute)
    before = await make_listing(actors, owner, "rejected")
    for body in ({"reserve_price": "1.00"}, {"trl": 0}, {"title": None}):
        response = await act(client, owner, before["id"], "edit", body)
        await assert_refused(actors, response, before, 422, None)


async def test_twenty_concurrent_approvals_one_wins(actors, client):
    owner = await actors.user(Role.institute)
    pending = await make_listing(actors, owner, "pending_review")
    responses = await asyncio.gather(
        *(act(client, actors.admin, pending["id"], "approve") for _ in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19, [r.text for r in responses if r.status_code != 409]
    assert all(r.json()["code"] == "invalid_transition" for r in responses if r.status_code == 409)
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert await read(actors, pending["id"]) == winner and winner["status"] == "approved"


async def test_approve_and_reject_race_one_decision(actors, client):
    owner = await actors.user(Role.institute)
    pending = await make_listing(actors, owner, "pending_review")
    calls = [act(client, actors.admin, pending["id"], a) for a in ("approve", "reject") * 10]
    responses = await asyncio.gather(*calls)
    won = [r for r in responses if r.status_code == 200]
    assert len(won) == 1 and all(r.status_code == 409 for r in responses if r not in won)
    final = await read(actors, pending["id"])
    assert final == won[0].json() and final["status"] in ("approved", "rejected")
    assert (final["rejection_reason"] is None) is (final["status"] == "approved")


async def test_concurrent_submits_and_edits_stay_consistent(actors, client):
    owner = await actors.user(Role.institute)
    draft = await make_listing(actors, owner)
    calls = [act(client, owner, draft["id"], "submit") for _ in range(5)]
    calls += [act(client, owner, draft["id"], "edit", {"trl": n}) for n in range(1, 6)]
    responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} <= {200, 409}
    submits = [r.json() for r in responses[:5] if r.status_code == 200]
    assert len(submits) == 1
    # Edits are refused once submitted, so the submitted listing is the final one.
    final = await read(actors, draft["id"])
    assert final == submits[0] and final["status"] == "pending_review"
    edited = {r.json()["trl"] for r in responses[5:] if r.status_code == 200}
    assert final["trl"] in (edited or {6})


async def test_racing_price_edits_never_break_the_reserve(actors, client):
    owner = await actors.user(Role.institute)
    draft = await make_listing(actors, owner, starting_price="10.00", reserve_price="20.00")
    bodies = [{"reserve_price": "15.00"}, {"starting_price": "18.00"}] * 5
    responses = await asyncio.gather(*(act(client, owner, draft["id"], "edit", b) for b in bodies))
    assert {r.status_code for r in responses} <= {200, 422}, [r.text for r in responses]
    assert all(r.json()["code"] == "reserve_below_start" for r in responses if r.status_code == 422)
    final = await read(actors, draft["id"])
    assert (final["starting_price"], final["reserve_price"]) in (("10.00", "15.00"),
                                                                 ("18.00", "20.00"))
