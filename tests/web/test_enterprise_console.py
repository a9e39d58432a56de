"""The enterprise console: qualification and deposit in plain words, and won or lost per auction."""

from app.security import Role
from tests.support.auctions import API
from tests.support.kinds import bid, finish, kind_auction, rnd
from tests.web.pages import page_client, sign_in


async def test_the_enterprise_reads_its_deposits_and_results_in_plain_words(app, actors, client):
    alice, bob = await actors.user(Role.enterprise), await actors.user(Role.enterprise)
    auction = await kind_auction(actors, [rnd("english", -0.2, 3)])
    pending = await kind_auction(actors, [rnd("english", 60, 600)], title="Lot still to qualify for")
    regs = {}
    for who in (alice, bob):
        reg = await client.post(f"{API}/auctions/{auction['id']}/registrations", headers=who.headers)
        regs[who.email] = reg.json()["id"]
    await client.post(f"{API}/auctions/{pending['id']}/registrations", headers=alice.headers)
    for who, reference in ((alice, "DEP-ALICE-1"), (bob, "DEP-BOB-1")):
        approved = await client.post(
            f"{API}/auctions/{auction['id']}/registrations/{regs[who.email]}/approve",
            json={"deposit_reference": reference}, headers=actors.admin.headers)
        assert approved.status_code == 200, approved.text
    async with await page_client(app) as http:
        await sign_in(http, alice.email)
        before = (await http.get("/console?lang=en")).text
        assert "Qualified: you may bid. Your deposit (DEP-ALICE-1) is held until the auction" in before
        assert "Waiting for the operator: once your deposit has arrived" in before
        results = before.split('id="results-h"')[1].split("</section>")[0]
        assert "Open" in results and "Upcoming" not in results  # its live status, not SQL's
        for who, amount in ((bob, "2000000.00"), (alice, "2010000.00")):
            assert (await bid(client, auction["id"], who, amount=amount)).status_code == 201
        await finish(app, client, auction["id"])
        won = (await http.get("/console?lang=en")).text
        assert "You won" in won and "counts towards the amount due" in won
        assert "您已竞得" in (await http.get("/console?lang=zh")).text
    async with await page_client(app) as http:
        await sign_in(http, bob.email)
        lost = (await http.get("/console?lang=en")).text
        assert "You lost" in lost and "Your deposit (DEP-BOB-1) is released" in lost
        assert "You won" not in lost
