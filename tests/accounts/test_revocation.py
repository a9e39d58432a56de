"""A change of role, organisation or active state revokes the user's tokens at once, in every
API process, without a database read per request."""

import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.security import Role
from tests.accounts.support import API, ledger_actions, sign_in_answer
from tests.support.actors import PASSWORD, sign_in
from tests.support.auctions import create_auction, qualified_bidder


async def patch_user(actors, user_id: int, body: dict, headers: dict | None = None):
    return await actors.client.patch(
        f"{API}/users/{user_id}", json=body, headers=headers or actors.admin.headers
    )


def assert_revoked(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "token_revoked"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_deactivated_bidder_old_token_no_longer_bids(actors, client, app):
    auction = await create_auction(actors)
    bidder = await qualified_bidder(actors, auction["id"])
    url = f"{API}/auctions/{auction['id']}/bids"
    assert (await client.post(url, json={"amount": "2000000.00"}, headers=bidder.headers)
            ).status_code == 201

    changed = await patch_user(actors, bidder.user_id, {"is_active": False})

    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert_revoked(await client.post(url, json={"amount": "2500000.00"}, headers=bidder.headers))
    assert_revoked(await client.get(f"{API}/me", headers=bidder.headers))
    refused = await sign_in_answer(client, bidder.email, PASSWORD)
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_credentials"
    assert (await ledger_actions(app, "user", bidder.user_id))[-1] == "user.updated"

    back = await patch_user(actors, bidder.user_id, {"is_active": True})
    assert back.status_code == 200
    assert_revoked(await client.get(f"{API}/me", headers=bidder.headers))  # still the old one
    fresh = await sign_in(client, bidder.email)
    assert (await client.get(f"{API}/me", headers=fresh)).status_code == 200


async def test_after_a_role_change_the_old_token_does_not_keep_the_old_role(actors, client):
    enterprise = await actors.user(Role.enterprise)
    institute_org = await actors.organization("institute")

    changed = await patch_user(
        actors, enterprise.user_id, {"role": "institute", "organization_id": institute_org}
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "institute"
    assert changed.json()["organization_id"] == institute_org
    auction = await create_auction(actors)
    assert_revoked(await client.post(f"{API}/auctions/{auction['id']}/registrations",
                                     headers=enterprise.headers))
    fresh = await sign_in(client, enterprise.email)
    me = (await client.get(f"{API}/me", headers=fresh)).json()
    assert me["role"] == "institute" and me["organization_id"] == institute_org


async def test_moving_a_user_to_another_organization_revokes_his_tokens(actors, client):
    enterprise = await actors.user(Role.enterprise)
    other_org = await actors.organization("enterprise")

    changed = await patch_user(actors, enterprise.user_id, {"organization_id": other_org})

    assert changed.status_code == 200 and changed.json()["organization_id"] == other_org
    assert_revoked(await client.get(f"{API}/organizations/{enterprise.organization_id}",
                                    headers=enterprise.headers))


async def test_an_unchanged_patch_revokes_nothing(actors, client):
    enterprise = await actors.user(Role.enterprise)
    same = await patch_user(
        actors, enterprise.user_id,
        {"role": "enterprise", "organization_id": enterprise.organization_id, "is_active": True},
    )
    assert same.status_code == 200
    assert (await client.get(f"{API}/me", headers=enterprise.headers)).status_code == 200


# A malformed change is 422; one that breaks the role/organisation rule only together with
# what the user already has, or names an organisation of the wrong kind, is 409; an
# organisation that does not exist 404 (what a well-formed request cannot know from the schema).
@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"role": None}, 422, "validation_error"),
        ({"is_active": None}, 422, "validation_error"),
        ({"is_active": "false"}, 422, "validation_error"),
        ({"organization_id": "7"}, 422, "validation_error"),
        ({"email": "new@example.com"}, 422, "validation_error"),
        ({"role": "superuser"}, 422, "validation_error"),
        ({"organization_id": None}, 409, "organization_required"),
        ({"role": "admin"}, 409, "role_organization_mismatch"),
        ({"role": "admin", "organization_id": 1}, 422, "role_organization_mismatch"),
        ({"role": "auditor"}, 409, "role_organization_mismatch"),
        ({"organization_id": 999_999}, 404, "organization_not_found"),
    ],
)
async def test_bad_changes_are_refused_and_change_nothing(actors, client, body, status, code):
    enterprise = await actors.user(Role.enterprise)
    before = (await client.get(f"{API}/users/{enterprise.user_id}", headers=actors.admin.headers)).json()

    response = await patch_user(actors, enterprise.user_id, body)

    assert response.status_code == status and response.json()["code"] == code, response.text
    after = (await client.get(f"{API}/users/{enterprise.user_id}", headers=actors.admin.headers)).json()
    assert after == before
    assert (await client.get(f"{API}/me", headers=enterprise.headers)).status_code == 200


async def test_demoting_an_admin_needs_the_organization_in_the_same_change(actors, client):
    other_admin = await actors.user(Role.admin)
    auditors = await actors.organization("auditor")
    changed = await patch_user(actors, other_admin.user_id,
                               {"role": "auditor", "organization_id": auditors})
    assert changed.status_code == 200, changed.text
    assert_revoked(await client.get(f"{API}/users", headers=other_admin.headers))


async def test_only_admin_changes_users_and_not_his_own_account(actors, client):
    enterprise = await actors.user(Role.enterprise)
    auditor = await actors.user(Role.auditor)
    for caller in (enterprise, auditor):
        response = await patch_user(actors, enterprise.user_id, {"is_active": False}, caller.headers)
        assert response.status_code == 403 and response.json()["code"] == "forbidden_role"
    own = await patch_user(actors, actors.admin.user_id, {"is_active": False})
    assert own.status_code == 409 and own.json()["code"] == "own_account"
    missing = await patch_user(actors, 999_999, {"is_active": False})
    assert missing.status_code == 404
    anonymous = await client.patch(f"{API}/users/{enterprise.user_id}", json={"is_active": False})
    assert anonymous.status_code == 401
    assert (await client.get(f"{API}/me", headers=enterprise.headers)).status_code == 200


async def test_revocation_is_immediate_in_another_api_process(actors, client, settings):
    """Another app (its own token cache, as another worker process) shares Redis and the
    database: a token it has already accepted is refused there as soon as the PATCH answers."""
    enterprise = await actors.user(Role.enterprise)
    other = create_app(settings)
    async with LifespanManager(other):
        import httpx

        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as second:
            assert (await second.get(f"{API}/me", headers=enterprise.headers)).status_code == 200
            assert (await patch_user(actors, enterprise.user_id, {"is_active": False})
                    ).status_code == 200
            assert_revoked(await second.get(f"{API}/me", headers=enterprise.headers))


async def test_redis_without_the_versions_falls_back_to_the_database(actors, client, app):
    enterprise = await actors.user(Role.enterprise)
    old = enterprise.headers
    await patch_user(actors, enterprise.user_id, {"organization_id": await actors.organization(
        "enterprise")})
    fresh = await sign_in(client, enterprise.email)
    redis, prefix = app.state.redis, app.state.settings.redis_prefix
    key = f"{prefix}:tokver:{enterprise.user_id}"

    await redis.delete(key)  # Redis restarted empty
    assert_revoked(await client.get(f"{API}/me", headers=old))
    await redis.delete(key)
    assert (await client.get(f"{API}/me", headers=fresh)).status_code == 200

    await redis.set(key, 0)  # Redis lost the last write: a newer token heals it from SQL
    assert (await client.get(f"{API}/me", headers=fresh)).status_code == 200
    assert int(await redis.get(key)) == 1
    assert_revoked(await client.get(f"{API}/me", headers=old))


async def test_the_bid_path_reads_no_database_for_the_revocation_check(actors, client, app):
    auction = await create_auction(actors)
    bidder = await qualified_bidder(actors, auction["id"])
    loads = []
    versions = app.state.token_versions
    original = versions._load

    async def counting(user_id: int):
        loads.append(user_id)
        return await original(user_id)

    versions._load = counting
    url = f"{API}/auctions/{auction['id']}/bids"
    for amount in ("2000000.00", "2010000.00"):
        response = await client.post(url, json={"amount": amount}, headers=bidder.headers)
        assert response.status_code in (201, 409), response.text
    assert loads == []


async def test_repeating_a_change_writes_its_version_to_redis_again(actors, client, app):
    """Redis failed right after the change committed: the same PATCH again repairs it."""
    enterprise = await actors.user(Role.enterprise)
    assert (await patch_user(actors, enterprise.user_id, {"is_active": False})).status_code == 200
    key = f"{app.state.settings.redis_prefix}:tokver:{enterprise.user_id}"
    await app.state.redis.set(key, 0)  # as if the write after the commit had not happened
    assert (await client.get(f"{API}/me", headers=enterprise.headers)).status_code == 200

    assert (await patch_user(actors, enterprise.user_id, {"is_active": False})).status_code == 200

    assert_revoked(await client.get(f"{API}/me", headers=enterprise.headers))
