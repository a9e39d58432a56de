"""Watching a lot on a clock the test moves: the watcher (not his colleagues) is told once
that it opens soon, and, while his organisation has not registered, that registration closes."""

from datetime import UTC, datetime, timedelta

from app.closing.watchers import notify_watchers
from app.security import Role
from tests.support.auctions import API, create_auction, qualified_bidder


async def _types(actors, user) -> list[str]:
    items = (await actors.client.get(f"{API}/me/notifications", headers=user.headers)).json()["items"]
    return [n["type"] for n in items]


async def test_watchers_told_of_opening_and_registration_closing_once(app, actors):
    auction = await create_auction(actors, starts_in=3 * 3600, lasts=3600)
    starts = datetime.now(UTC) + timedelta(hours=3)
    watcher = await actors.user(Role.enterprise)
    colleague = await actors.user(Role.enterprise, watcher.organization_id)
    registered = await actors.user(Role.enterprise)
    await qualified_bidder(actors, auction["id"], registered)
    for user in (watcher, registered):
        response = await actors.client.post(f"{API}/auctions/{auction['id']}/watch", headers=user.headers)
        assert response.status_code == 204, response.text
    assert (await actors.client.post(f"{API}/auctions/999999/watch",
                                     headers=watcher.headers)).status_code == 404
    assert (await actors.client.get(f"{API}/me/watches", headers=watcher.headers)).json() == [auction["id"]]

    run = app.state.sessionmaker
    # the round ends 4 h from now: registration closes then, told from 24 h before
    assert await notify_watchers(run, now=starts - timedelta(hours=2)) == 1
    assert await _types(actors, watcher) == ["registration.closing"]
    assert await notify_watchers(run, now=starts - timedelta(minutes=20)) == 2  # opening, both
    assert await notify_watchers(run, now=starts - timedelta(minutes=10)) == 0  # once each
    assert sorted(await _types(actors, watcher)) == ["lot.opening", "registration.closing"]
    assert "registration.closing" not in await _types(actors, registered)
    assert "lot.opening" in await _types(actors, registered)
    assert await _types(actors, colleague) == []

    assert (await actors.client.delete(f"{API}/auctions/{auction['id']}/watch",
                                       headers=watcher.headers)).status_code == 204
    assert (await actors.client.get(f"{API}/me/watches", headers=watcher.headers)).json() == []
