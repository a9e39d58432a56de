"""Sign-in, /me, organisations and users, for every role."""

import asyncio
import time

import jwt
import pytest

from app.security import Role
from tests.support.actors import PASSWORD, sign_in
from tests.support.pages import each_page

API = "/api/v1"


async def test_sign_in_and_me(actors):
    enterprise = await actors.user(Role.enterprise)
    response = await actors.client.get(f"{API}/me", headers=enterprise.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == enterprise.email
    assert body["role"] == "enterprise"
    assert body["organization_id"] == enterprise.organization_id
    assert body["created_at"].endswith("Z") and len(body["created_at"]) == 24


async def test_wrong_password_is_401_problem(actors, client):
    enterprise = await actors.user(Role.enterprise)
    response = await client.post(
        f"{API}/auth/token", data={"username": enterprise.email, "password": "nope-nope"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_credentials"
    unknown = await client.post(
        f"{API}/auth/token", data={"username": "ghost@example.com", "password": PASSWORD}
    )
    assert unknown.status_code == 401 and unknown.json()["code"] == "invalid_credentials"


async def test_email_sign_in_is_case_insensitive(actors, client):
    enterprise = await actors.user(Role.enterprise)
    headers = await sign_in(client, enterprise.email.upper())
    assert (await client.get(f"{API}/me", headers=headers)).json()["id"] == enterprise.user_id


@pytest.mark.parametrize(
    "token_change",
    ["garbage", "alg_none", "wrong_key", "expired"],
)
async def test_bad_tokens_are_refused(client, actors, settings, token_change):
    claims = {"sub": str(actors.admin.user_id), "role": "admin", "org": None, "iss": "techauction",
              "iat": 1700000000, "exp": 4100000000}
    token = {
        "garbage": lambda: "not.a.jwt",
        "alg_none": lambda: jwt.encode(claims, key=None, algorithm="none"),
        "wrong_key": lambda: jwt.encode(claims, "another-key-" + "y" * 40, algorithm="HS256"),
        "expired": lambda: jwt.encode(
            {**claims, "exp": 1700000001}, settings.jwt_key(), algorithm="HS256"
        ),
    }[token_change]()
    response = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_a_token_that_worked_is_refused_once_it_expires(client, actors, settings):
    claims = {"sub": str(actors.admin.user_id), "role": "admin", "org": None, "iss": "techauction",
              "ver": 0, "iat": int(time.time()), "exp": int(time.time()) + 2}
    headers = {"Authorization": f"Bearer {jwt.encode(claims, settings.jwt_key(), 'HS256')}"}
    assert (await client.get(f"{API}/me", headers=headers)).status_code == 200  # now cached
    await asyncio.sleep(claims["exp"] - time.time() + 0.1)
    response = await client.get(f"{API}/me", headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"


async def test_anonymous_is_401(client):
    for path in ("/me", "/users", "/organizations"):
        response = await client.get(f"{API}{path}")
        assert response.status_code == 401, path
        assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("role", [Role.institute, Role.enterprise, Role.auditor])
async def test_only_admin_creates_organizations_and_users(actors, client, role):
    caller = await actors.user(role)
    org = await client.post(
        f"{API}/organizations", json={"name": "Sneaky", "kind": "enterprise"}, headers=caller.headers
    )
    assert org.status_code == 403 and org.json()["code"] == "forbidden_role"
    user = await client.post(
        f"{API}/users",
        json={"email": "x@example.com", "password": PASSWORD, "role": "admin"},
        headers=caller.headers,
    )
    assert user.status_code == 403
    listing = await client.get(f"{API}/organizations", headers=actors.admin.headers)
    assert all(o["name"] != "Sneaky" for o in listing.json()["items"])
    assert (await client.post(
        f"{API}/auth/token", data={"username": "x@example.com", "password": PASSWORD}
    )).status_code == 401


async def test_duplicate_organization_and_email_conflict(actors, client):
    admin = actors.admin.headers
    first = await client.post(f"{API}/organizations", json={"name": "SJTU", "kind": "institute"},
                              headers=admin)
    assert first.status_code == 201
    again = await client.post(f"{API}/organizations", json={"name": "SJTU", "kind": "enterprise"},
                              headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "organization_exists"
    body = {"email": "a@example.com", "password": PASSWORD, "role": "institute",
            "organization_id": first.json()["id"]}
    assert (await client.post(f"{API}/users", json=body, headers=admin)).status_code == 201
    dup = await client.post(f"{API}/users", json={**body, "email": "A@example.com"}, headers=admin)
    assert dup.status_code == 409 and dup.json()["code"] == "email_taken"


@pytest.mark.parametrize(
    ("role", "org_kind", "status", "code"),
    [  # the organisation's kind is its state (409); the rest the API document states (422)
        ("institute", "enterprise", 409, "role_organization_mismatch"),
        ("enterprise", "auditor", 409, "role_organization_mismatch"),
        ("auditor", None, 422, "organization_required"),
        ("admin", "institute", 422, "role_organization_mismatch"),
    ],
)
async def test_role_must_fit_organization(actors, client, role, org_kind, status, code):
    org_id = await actors.organization(org_kind) if org_kind else None
    body = {"email": f"{role}-mismatch@example.com", "password": PASSWORD, "role": role,
            "organization_id": org_id}
    response = await client.post(f"{API}/users", json=body, headers=actors.admin.headers)
    assert response.status_code == status and response.json()["code"] == code
    users = await client.get(f"{API}/users", headers=actors.admin.headers)
    assert all(u["email"] != body["email"] for u in users.json()["items"])


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD, "role": "admin"},
        {"email": "short@example.com", "password": "short", "role": "admin"},
        {"email": "role@example.com", "password": PASSWORD, "role": "superuser"},
        {"email": "extra@example.com", "password": PASSWORD, "role": "admin", "is_admin": True},
        {"email": "big@example.com", "password": "p" * 10_000, "role": "admin"},
        {"email": "org@example.com", "password": PASSWORD, "role": "enterprise",
         "organization_id": "1"},
        {"email": "org2@example.com", "password": PASSWORD, "role": "enterprise",
         "organization_id": True},
    ],
)
async def test_bad_user_bodies_are_422(actors, client, body):
    response = await client.post(f"{API}/users", json=body, headers=actors.admin.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_text_no_database_stores_is_422_and_creates_nothing(actors, client):
    """NUL (PostgreSQL text refuses it) and lone surrogates (not UTF-8): found by fuzzing."""
    admin = actors.admin.headers
    before = (await client.get(f"{API}/organizations", headers=admin)).json()["items"]
    for raw in (b'{"name": "a\\u0000b", "kind": "institute"}',
                b'{"name": "a\\ud800b", "kind": "institute"}'):
        response = await client.post(f"{API}/organizations", content=raw,
                                     headers={**admin, "content-type": "application/json"})
        assert response.status_code == 422 and response.json()["code"] == "validation_error"
    body = {"email": "nul@example.com", "password": PASSWORD + "\x00", "role": "admin"}
    assert (await client.post(f"{API}/users", json=body, headers=admin)).status_code == 422
    assert (await client.get(f"{API}/organizations", headers=admin)).json()["items"] == before
    sign_in = await client.post(f"{API}/auth/token",
                                data={"username": "a\x00@example.com", "password": PASSWORD})
    assert sign_in.status_code == 422 and sign_in.json()["code"] == "validation_error"


async def test_reading_organizations_and_users_by_role(actors, client):
    institute = await actors.user(Role.institute)
    enterprise = await actors.user(Role.enterprise)
    auditor = await actors.user(Role.auditor)
    for staff in (actors.admin, auditor):
        orgs = await client.get(f"{API}/organizations", headers=staff.headers)
        assert orgs.status_code == 200 and len(orgs.json()["items"]) == 3
        users = await client.get(f"{API}/users", headers=staff.headers)
        assert users.status_code == 200 and len(users.json()["items"]) == 4
        one = await client.get(f"{API}/users/{institute.user_id}", headers=staff.headers)
        assert one.status_code == 200
    for member in (institute, enterprise):
        assert (await client.get(f"{API}/users", headers=member.headers)).status_code == 403
        assert (await client.get(f"{API}/organizations", headers=member.headers)).status_code == 403
        own = await client.get(f"{API}/organizations/{member.organization_id}", headers=member.headers)
        assert own.status_code == 200
        me = await client.get(f"{API}/users/{member.user_id}", headers=member.headers)
        assert me.status_code == 200
    other_org = await client.get(
        f"{API}/organizations/{enterprise.organization_id}", headers=institute.headers
    )
    assert other_org.status_code == 404
    other_user = await client.get(f"{API}/users/{enterprise.user_id}", headers=institute.headers)
    assert other_user.status_code == 404


async def test_users_filter_and_pagination(actors, client):
    org = await actors.organization("enterprise")
    made = [await actors.user(Role.enterprise, org) for _ in range(5)]
    seen = []
    async for page in each_page(client, f"{API}/users", actors.admin.headers, 2, organization_id=org):
        assert len(page["items"]) <= 2
        seen += [u["id"] for u in page["items"]]
    assert seen == sorted((m.user_id for m in made), reverse=True)
    bad = await client.get(f"{API}/users", params={"cursor": "!!"}, headers=actors.admin.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"
    for limit in (0, 1001, "x"):
        r = await client.get(f"{API}/users", params={"limit": limit}, headers=actors.admin.headers)
        assert r.status_code == 422


async def test_sign_in_failures_are_limited_per_email_and_address(actors, client, settings):
    enterprise = await actors.user(Role.enterprise)
    other = await actors.user(Role.enterprise)
    limit = settings.login_attempts_per_minute
    for _ in range(limit):  # actors.user's successful sign-in did not count
        wrong = await client.post(
            f"{API}/auth/token", data={"username": enterprise.email, "password": "wrong-pass"}
        )
        assert wrong.status_code == 401
    blocked = await client.post(
        f"{API}/auth/token", data={"username": enterprise.email, "password": PASSWORD}
    )
    assert blocked.status_code == 429 and blocked.json()["code"] == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    # Another account is not locked out by the first one's attempts.
    assert (await sign_in(client, other.email))["Authorization"].startswith("Bearer ")
