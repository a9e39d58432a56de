"""A sold auction's notices: written with the close, read in the inbox in the user's
language, delivered by email to a real SMTP server and to a webhook verifying signatures."""

from datetime import timedelta

import httpx

from app.db import utcnow
from app.notifications.delivery import Policy, deliver_due
from app.security import Role
from tests.support.auctions import API
from tests.support.settlements import close, run_auction


def policy(smtp_url: str | None, **overrides) -> Policy:
    return Policy(smtp_url=smtp_url, smtp_from="techauction <noreply@example.com>",
                  backoff_seconds=overrides.pop("backoff_seconds", 1.0),
                  retry_hours=overrides.pop("retry_hours", 24.0), **overrides)


async def deliver_all(app, pol: Policy, clock=utcnow) -> int:
    total = 0
    async with httpx.AsyncClient(timeout=10) as http:
        while claimed := await deliver_due(app.state.sessionmaker, http, pol, clock=clock):
            total += claimed
    return total


async def register_hook(actors, bidder, url: str, events: list[str] | None = None) -> dict:
    response = await actors.client.post(
        f"{API}/organizations/{bidder.organization_id}/webhooks",
        json={"url": url, "events": events or []}, headers=bidder.headers)
    assert response.status_code == 201, response.text
    assert response.json()["secret"].startswith("whsec_")
    return response.json()


async def inbox(actors, user) -> list[dict]:
    response = await actors.client.get(f"{API}/me/notifications", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_close_notifies_winner_and_loser_by_inbox_email_and_webhook(app, actors, smtp, receiver):
    sale = await run_auction(actors, [("a", "2000000.00"), ("b", "2010000.00")])
    winner, loser = sale.bidders["b"], sale.bidders["a"]
    hook = await register_hook(actors, winner, receiver.url)
    receiver.secret = hook["secret"]
    assert (await actors.client.put(f"{API}/me/preferences", json={"language": "en"},
                                    headers=loser.headers)).status_code == 204
    await close(app, actors.client, sale.auction_id)

    won = {n["type"]: n for n in await inbox(actors, winner)}
    assert {"registration.approved", "auction.won", "settlement.due"} <= set(won)
    assert won["settlement.due"]["payload"]["amount_due"] and won["settlement.due"]["payload"]["due_date"]
    assert "待付款" in won["settlement.due"]["subject"]  # zh by default
    lost = {n["type"]: n for n in await inbox(actors, loser)}
    assert {"auction.lost", "deposit.released"} <= set(lost)
    assert lost["auction.lost"]["subject"].startswith("Auction closed")  # he chose en
    assert lost["auction.lost"]["payload"]["paddle"] != won["auction.won"]["payload"]["paddle"]
    assert "organization" not in str(lost["auction.lost"]["payload"])

    await deliver_all(app, policy(smtp.url))
    ids = receiver.ids()
    assert {won["auction.won"]["notification_id"], won["settlement.due"]["notification_id"]} <= ids
    assert receiver.bad_signatures == 0
    by_type = {body["type"]: body for _, body in receiver.received}
    assert by_type["settlement.due"]["data"]["amount_due"] == won["settlement.due"]["payload"]["amount_due"]
    mails = smtp.messages()
    to_winner = [m for m in mails if m["To"] == winner.email]
    assert {m["X-Techauction-Notification"] for m in to_winner} >= {
        won["auction.won"]["notification_id"], won["settlement.due"]["notification_id"]}
    assert any(m["Subject"].startswith("Auction closed") for m in mails if m["To"] == loser.email)

    item = lost["auction.lost"]["id"]
    assert (await actors.client.post(f"{API}/me/notifications/{item}/read",
                                     headers=loser.headers)).status_code == 204
    unread = (await actors.client.get(f"{API}/me/notifications", params={"unread": "true"},
                                      headers=loser.headers)).json()["items"]
    assert item not in {n["id"] for n in unread}
    assert (await actors.client.post(f"{API}/me/notifications/{item}/read",
                                     headers=winner.headers)).status_code == 404


async def test_receiver_down_gets_deliveries_when_back_then_dead_letter_and_redeliver(
    app, actors, receiver
):
    sale = await run_auction(actors, [("a", "2000000.00")])
    bidder = sale.bidders["a"]
    hook = await register_hook(actors, bidder, receiver.url, ["auction.won", "settlement.due"])
    receiver.secret = hook["secret"]
    await receiver.stop()
    await close(app, actors.client, sale.auction_id)
    now = utcnow()
    pol = policy(None, backoff_seconds=60.0, retry_hours=24.0)
    assert await deliver_all(app, pol, clock=lambda: now) == 3 + 2  # 3 emails (skipped: no SMTP), 2 hooks
    assert receiver.received == []
    await receiver.start()
    # not before the backoff...
    assert await deliver_all(app, pol, clock=lambda: now + timedelta(seconds=30)) == 0
    assert await deliver_all(app, pol, clock=lambda: now + timedelta(seconds=61)) == 2
    assert {b["type"] for _, b in receiver.received} == {"auction.won", "settlement.due"}

    # another org's receiver that never comes back: dead-lettered after the window
    sale2 = await run_auction(actors, [("c", "2000000.00")])
    dead_url = receiver.url.replace(str(receiver.port), "9")  # discard port: refused
    await register_hook(actors, sale2.bidders["c"], dead_url, ["auction.won"])
    await close(app, actors.client, sale2.auction_id)
    start = utcnow()
    for hours in range(0, 27):
        await deliver_all(app, pol, clock=lambda h=hours: start + timedelta(hours=h))
    dead = (await actors.client.get(f"{API}/notifications/dead-letters",
                                    headers=actors.admin.headers)).json()["items"]
    assert [d["type"] for d in dead] == ["auction.won"] and dead[0]["attempts"] > 3
    outsider = await actors.user(Role.enterprise)
    assert (await actors.client.get(f"{API}/notifications/dead-letters",
                                    headers=outsider.headers)).status_code == 403
    again = await actors.client.post(f"{API}/notifications/dead-letters/{dead[0]['id']}/redeliver",
                                     headers=actors.admin.headers)
    assert again.status_code == 200 and again.json()["status"] == "pending"
    assert (await actors.client.get(f"{API}/notifications/dead-letters",
                                    headers=actors.admin.headers)).json()["items"] == []


async def test_webhooks_belong_to_their_organisation(app, actors, receiver):
    one, other = await actors.user(Role.enterprise), await actors.user(Role.enterprise)
    url = f"{API}/organizations/{one.organization_id}/webhooks"
    assert (await actors.client.post(url, json={"url": receiver.url},
                                     headers=other.headers)).status_code == 404
    assert (await actors.client.post(url, json={"url": "not a url"},
                                     headers=one.headers)).status_code == 422
    assert (await actors.client.post(url, json={"url": receiver.url, "events": ["nope"]},
                                     headers=one.headers)).status_code == 422
    created = await register_hook(actors, one, receiver.url)
    listed = (await actors.client.get(url, headers=one.headers)).json()
    assert [h["id"] for h in listed] == [created["id"]] and "secret" not in listed[0]
    assert (await actors.client.get(url, headers=other.headers)).status_code == 404
    assert (await actors.client.delete(f"{url}/{created['id']}", headers=one.headers)).status_code == 204
    assert (await actors.client.get(url, headers=one.headers)).json() == []
