"""Questions on a lot: registered enterprises ask, owner or admin answer in public, askers anonymous."""

from app.security import Role
from tests.support.auctions import API, approved_listing, create_auction, qualified_bidder


async def setup(actors):
    owner = await actors.user(Role.institute)
    listing_id = await approved_listing(actors, owner)
    auction = await create_auction(actors, listing_id=listing_id, starts_in=3600)
    return owner, auction["id"]


async def ask(client, who, auction_id: int, text: str):
    return await client.post(f"{API}/auctions/{auction_id}/questions", json={"text": text},
                             headers=who.headers if who else {})


async def listed(client, who, auction_id: int) -> list[dict]:
    response = await client.get(f"{API}/auctions/{auction_id}/questions",
                                headers=who.headers if who else {})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_who_may_ask(actors, client):
    _, auction_id = await setup(actors)
    bidder = await qualified_bidder(actors, auction_id)
    pending = await actors.user(Role.enterprise)
    reg = await client.post(f"{API}/auctions/{auction_id}/registrations", headers=pending.headers)
    assert reg.status_code == 201
    for who in (bidder, pending):
        assert (await ask(client, who, auction_id, "Is the licence exclusive in China?")).status_code == 201
    stranger = await ask(client, await actors.user(Role.enterprise), auction_id, "Who owns the patent?")
    assert stranger.status_code == 403 and stranger.json()["code"] == "not_registered"
    institute = await actors.user(Role.institute)
    assert (await ask(client, institute, auction_id, "A question?")).status_code == 403
    assert (await ask(client, None, auction_id, "A question?")).status_code == 401
    assert (await ask(client, bidder, auction_id, "")).status_code == 422
    assert (await ask(client, bidder, 99_999_999, "Any lot there?")).status_code == 404
    assert len(await listed(client, actors.admin, auction_id)) == 2


async def test_answers_are_public_and_askers_anonymous(actors, client):
    owner, auction_id = await setup(actors)
    asker = await qualified_bidder(actors, auction_id)
    rival = await qualified_bidder(actors, auction_id)
    first = (await ask(client, asker, auction_id, "What is the remaining patent term?")).json()
    second = (await ask(client, asker, auction_id, "Are there licences outstanding?")).json()
    assert first["mine"] is True and first["answer"] is None
    # pending: the asker and those who answer see it, nobody else
    assert [q["id"] for q in await listed(client, asker, auction_id)] == [first["id"], second["id"]]
    assert await listed(client, rival, auction_id) == []
    assert await listed(client, None, auction_id) == []
    assert len(await listed(client, owner, auction_id)) == 2
    answered = await client.post(f"{API}/questions/{first['id']}/answer",
                                 json={"answer": "Twelve years."}, headers=owner.headers)
    assert answered.status_code == 200 and answered.json()["answer"] == "Twelve years."
    again = await client.post(f"{API}/questions/{first['id']}/answer", json={"answer": "Eleven."},
                              headers=actors.admin.headers)
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    by_admin = await client.post(f"{API}/questions/{second['id']}/answer", json={"answer": "None."},
                                 headers=actors.admin.headers)
    assert by_admin.status_code == 200
    for who in (None, rival, owner, await actors.user(Role.auditor)):
        items = await listed(client, who, auction_id)
        assert [(q["text"], q["answer"], q["mine"]) for q in items] == [
            ("What is the remaining patent term?", "Twelve years.", False),
            ("Are there licences outstanding?", "None.", False)]
        text = str(items)
        assert "organization" not in text and "asked_by" not in text and asker.email not in text
    assert all(q["mine"] for q in await listed(client, asker, auction_id))


async def test_only_the_owner_or_admin_answer(actors, client):
    _, auction_id = await setup(actors)
    asker = await qualified_bidder(actors, auction_id)
    question = (await ask(client, asker, auction_id, "Is a sample available?")).json()
    for who in (asker, await actors.user(Role.institute), await actors.user(Role.auditor)):
        refused = await client.post(f"{API}/questions/{question['id']}/answer", json={"answer": "Yes."},
                                    headers=who.headers)
        assert refused.status_code == 403, refused.text
    missing = await client.post(f"{API}/questions/99999999/answer", json={"answer": "Yes."},
                                headers=actors.admin.headers)
    assert missing.status_code == 404
    assert (await listed(client, asker, auction_id))[0]["answer"] is None
    entries = (await client.get(f"{API}/audit/ledger", params={"action": "question.asked"},
                                headers=actors.admin.headers)).json()["items"]
    assert [e["entity_id"] for e in entries] == [question["id"]]
