"""Notification pages: the inbox in the page's language, the organisation's webhooks (the
secret shown once), and the room's watch button (CSRF-checked forms)."""

from app.security import Role
from tests.support.auctions import create_auction
from tests.web.pages import csrf_of, page_client, sign_in


async def test_inbox_webhooks_and_watch_button(app, actors, client):
    auction = await create_auction(actors, starts_in=3600)
    alice = await actors.user(Role.enterprise)
    async with await page_client(app) as http:
        await sign_in(http, alice.email)
        room = (await http.get(f"/auctions/{auction['id']}?lang=en")).text
        assert "Watch this lot" in room
        watched = await http.post(f"/auctions/{auction['id']}/watch", data={"csrf_token": csrf_of(room)})
        assert watched.status_code == 303 and watched.headers["location"].endswith("notice=watching")
        room = (await http.get(f"/auctions/{auction['id']}?lang=zh")).text
        assert "取消关注" in room
        assert (await http.post(f"/auctions/{auction['id']}/watch", data={})).status_code == 403

        empty = (await http.get("/console/notifications?lang=en")).text
        assert "No notification yet." in empty
        await client.post(f"/api/v1/auctions/{auction['id']}/registrations", headers=alice.headers)
        reg = (await client.get(f"/api/v1/auctions/{auction['id']}/registrations",
                                headers=actors.admin.headers)).json()["items"][0]
        await client.post(f"/api/v1/auctions/{auction['id']}/registrations/{reg['id']}/reject",
                          headers=actors.admin.headers)
        inbox = (await http.get("/console/notifications?lang=en")).text
        assert "Registration rejected" in inbox and "Unread" in inbox
        assert "竞买登记未通过" in (await http.get("/console/notifications?lang=zh")).text
        read = await http.post("/console/notifications/read", data={"csrf_token": csrf_of(inbox)})
        assert read.status_code == 303
        assert "Unread</span>" not in (await http.get("/console/notifications?lang=en")).text

        page = (await http.get("/console/webhooks?lang=en")).text
        assert "No webhook yet." in page
        added = await http.post("/console/webhooks", data={
            "csrf_token": csrf_of(page), "url": "https://example.com/hooks", "event-auction.won": "1"})
        assert added.status_code == 200 and 'id="webhook-secret">whsec_' in added.text
        assert "https://example.com/hooks" in added.text and "auction.won" in added.text
        bad = await http.post("/console/webhooks", data={"csrf_token": csrf_of(page), "url": "nope"})
        assert bad.status_code == 303 and "invalid_webhook_url" in bad.headers["location"]
        listed = (await http.get("/console/webhooks?lang=en")).text
        assert "whsec_" not in listed
        hook_id = listed.split('action="/console/webhooks/')[1].split("/")[0]
        removed = await http.post(f"/console/webhooks/{hook_id}/delete", data={"csrf_token": csrf_of(listed)})
        assert removed.status_code == 303
        assert "No webhook yet." in (await http.get("/console/webhooks?lang=en")).text
