"""Enterprise self-sign-up with a unified social credit code; the operator verifies the
enterprise before any of its users may register for an auction."""

import pytest

from tests.accounts.support import API, ledger_actions, registration_code, sign_in_answer
from tests.support.actors import sign_in
from tests.support.auctions import create_auction

PASSWORD = "granite-lotus-engine-8"


def application(**overrides) -> dict:
    return {"organization_name": "Shanghai New Energy Test Equipment Co., Ltd.",
            "registration_code": registration_code(), "email": "founder@sh-energy.example",
            "password": PASSWORD} | overrides


async def apply(client, body: dict):
    return await client.post(f"{API}/signup", json=body)


async def organizations(client, admin) -> list[dict]:
    return (await client.get(f"{API}/organizations", headers=admin.headers)).json()["items"]


async def test_an_enterprise_registers_for_auctions_once_verified(actors, client, app):
    body = application()
    applied = await apply(client, body)

    assert applied.status_code == 201, applied.text
    org, user = applied.json()["organization"], applied.json()["user"]
    assert org["kind"] == "enterprise" and org["registration_code"] == body["registration_code"]
    assert org["verified"] is False and org["verified_at"] is None
    assert user["role"] == "enterprise" and user["organization_id"] == org["id"]
    headers = await sign_in(client, body["email"], PASSWORD)
    auction = await create_auction(actors)
    url = f"{API}/auctions/{auction['id']}/registrations"
    refused = await client.post(url, headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "organization_not_verified"

    pending = await client.get(f"{API}/organizations", params={"verified": "false"},
                               headers=actors.admin.headers)
    assert [o["id"] for o in pending.json()["items"]] == [org["id"]]
    verified = await client.post(f"{API}/organizations/{org['id']}/verify",
                                 headers=actors.admin.headers)
    assert verified.status_code == 200 and verified.json()["verified"] is True
    assert verified.json()["verified_at"].endswith("Z")

    assert (await client.post(url, headers=headers)).status_code == 201
    assert await ledger_actions(app, "organization", org["id"]) == [
        "organization.applied", "organization.verified"]
    assert await ledger_actions(app, "user", user["id"]) == ["user.created"]
    again = await client.post(f"{API}/organizations/{org['id']}/verify", headers=actors.admin.headers)
    assert again.status_code == 200
    assert len(await ledger_actions(app, "organization", org["id"])) == 2


async def test_admin_made_organizations_are_verified_at_once(actors, client):
    code = registration_code()
    made = await client.post(f"{API}/organizations", headers=actors.admin.headers,
                             json={"name": "SJTU", "kind": "institute", "registration_code": code})
    assert made.status_code == 201, made.text
    assert made.json()["verified"] is True and made.json()["registration_code"] == code
    clash = await client.post(f"{API}/organizations", headers=actors.admin.headers,
                              json={"name": "Other", "kind": "enterprise", "registration_code": code})
    assert clash.status_code == 409 and clash.json()["code"] == "registration_code_taken"
    taken = await apply(client, application(registration_code=code))
    assert taken.status_code == 409 and taken.json()["code"] == "registration_code_taken"


async def test_the_code_is_normalised(actors, client):
    code = registration_code()
    spaced = f"{code[:6]} {code[6:12]}-{code[12:]}".lower()
    applied = await apply(client, application(registration_code=spaced))
    assert applied.status_code == 201, applied.text
    assert applied.json()["organization"]["registration_code"] == code


@pytest.mark.parametrize(
    "code",
    ["91310000775785553L", "9131000077578555", "91310000775785552LX", "ABCDEFGH775785552L",
     "91310000IOZSV78552", ""],
)
async def test_a_bad_registration_code_is_422_and_creates_nothing(actors, client, code):
    response = await apply(client, application(registration_code=code))

    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["loc"][-1] == "registration_code"
    assert await organizations(client, actors.admin) == []


@pytest.mark.parametrize(
    ("clash", "code"),
    [("name", "organization_exists"), ("email", "email_taken"), ("weak", "weak_password")],
)
async def test_a_refused_application_creates_nothing(actors, client, clash, code):
    first = application()
    assert (await apply(client, first)).status_code == 201
    second = application(organization_name="Another Co.", email="another@example.com")
    if clash == "name":
        second["organization_name"] = first["organization_name"]
    elif clash == "email":
        second["email"] = first["email"].upper()
    else:
        second["password"] = "password1"

    response = await apply(client, second)

    assert response.status_code in (409, 422) and response.json()["code"] == code, response.text
    assert len(await organizations(client, actors.admin)) == 1
    if clash != "email":  # that email is the first application's user
        assert (await sign_in_answer(client, second["email"], second["password"])).status_code == 401


async def test_a_password_like_the_organization_name_is_weak(actors, client):
    response = await apply(client, application(organization_name="Zhangjiang Biotech",
                                               password="zhangjiang biotech"))
    assert response.status_code == 422 and response.json()["code"] == "weak_password"


@pytest.mark.parametrize(
    "body",
    [
        {"organization_name": "X", "registration_code": "91310000775785552L", "email": "x@example.com",
         "password": PASSWORD, "kind": "institute"},
        {"organization_name": "X", "registration_code": "91310000775785552L", "email": "x@example.com",
         "password": PASSWORD, "role": "admin"},
        {"organization_name": "", "registration_code": "91310000775785552L", "email": "x@example.com",
         "password": PASSWORD},
        {"organization_name": "X", "registration_code": "91310000775785552L", "email": "not-an-email",
         "password": PASSWORD},
    ],
)
async def test_a_malformed_application_is_422(actors, client, body):
    response = await apply(client, body)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert await organizations(client, actors.admin) == []


async def test_only_admin_verifies(actors, client):
    applied = (await apply(client, application())).json()
    headers = await sign_in(client, applied["user"]["email"], PASSWORD)
    own = await client.post(f"{API}/organizations/{applied['organization']['id']}/verify",
                            headers=headers)
    assert own.status_code == 403 and own.json()["code"] == "forbidden_role"
    missing = await client.post(f"{API}/organizations/999999/verify", headers=actors.admin.headers)
    assert missing.status_code == 404
    mine = await client.get(f"{API}/organizations/{applied['organization']['id']}", headers=headers)
    assert mine.status_code == 200 and mine.json()["verified"] is False


async def test_sign_ups_are_limited_per_address(actors, client, settings):
    for n in range(settings.signups_per_address_per_hour):
        body = application(organization_name=f"Co {n}", email=f"u{n}@example.com")
        assert (await apply(client, body)).status_code == 201
    limited = await apply(client, application(organization_name="One more"))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
