"""Passwords: taken exactly as sent everywhere, refused when easily guessed, and changed by
their owner (which revokes his tokens)."""

import pytest

from app.security import Role
from tests.accounts.support import API, ledger_actions, sign_in_answer
from tests.support.actors import PASSWORD

NEW_PASSWORD = "amber-falcon-quarry-41"


async def change(client, headers, current: str, new: str):
    return await client.post(f"{API}/me/password", headers=headers,
                             json={"current_password": current, "new_password": new})


async def test_a_password_is_not_trimmed_at_creation_nor_at_sign_in(actors, client):
    padded = "  Violet-Harbor-73  "
    body = {"email": "padded@example.com", "password": padded, "role": "admin"}
    assert (await client.post(f"{API}/users", json=body, headers=actors.admin.headers)
            ).status_code == 201

    assert (await sign_in_answer(client, "padded@example.com", padded)).status_code == 200
    trimmed = await sign_in_answer(client, "padded@example.com", padded.strip())
    assert trimmed.status_code == 401


@pytest.mark.parametrize("weak", ["password", "12345678", "qwertyuiop", "abcdefgh", "11111111",
                                  "iloveyou1", "weak-user@example.com"])
async def test_common_or_weak_passwords_are_refused_at_creation(actors, client, weak):
    body = {"email": "weak-user@example.com", "password": weak, "role": "admin"}

    response = await client.post(f"{API}/users", json=body, headers=actors.admin.headers)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "weak_password"
    assert (await sign_in_answer(client, "weak-user@example.com", weak)).status_code == 401


async def test_changing_ones_password_revokes_the_old_tokens(actors, client, app):
    enterprise = await actors.user(Role.enterprise)

    changed = await change(client, enterprise.headers, PASSWORD, NEW_PASSWORD)

    assert changed.status_code == 200, changed.text
    new_headers = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await client.get(f"{API}/me", headers=new_headers)).status_code == 200
    old = await client.get(f"{API}/me", headers=enterprise.headers)
    assert old.status_code == 401 and old.json()["code"] == "token_revoked"
    assert (await sign_in_answer(client, enterprise.email, PASSWORD)).status_code == 401
    assert (await sign_in_answer(client, enterprise.email, NEW_PASSWORD)).status_code == 200
    assert (await ledger_actions(app, "user", enterprise.user_id))[-1] == "user.password_changed"


@pytest.mark.parametrize(
    ("current", "new", "status", "code"),
    [
        ("not-the-password", NEW_PASSWORD, 403, "wrong_password"),
        (PASSWORD, "password", 422, "weak_password"),
        (PASSWORD, "12345678", 422, "weak_password"),
        (PASSWORD, PASSWORD, 422, "password_unchanged"),
        (PASSWORD, "short", 422, "validation_error"),
        (PASSWORD, "p" * 129, 422, "validation_error"),
    ],
)
async def test_a_refused_password_change_changes_nothing(actors, client, current, new, status, code):
    enterprise = await actors.user(Role.enterprise)

    response = await change(client, enterprise.headers, current, new)

    assert response.status_code == status and response.json()["code"] == code, response.text
    assert (await client.get(f"{API}/me", headers=enterprise.headers)).status_code == 200
    assert (await sign_in_answer(client, enterprise.email, PASSWORD)).status_code == 200


async def test_a_password_change_needs_a_signed_in_user_and_a_strict_body(actors, client):
    anonymous = await client.post(f"{API}/me/password",
                                  json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert anonymous.status_code == 401
    enterprise = await actors.user(Role.enterprise)
    extra = await client.post(f"{API}/me/password", headers=enterprise.headers, json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "user_id": 1})
    assert extra.status_code == 422 and extra.json()["code"] == "validation_error"


async def test_wrong_current_passwords_are_limited_like_sign_ins(actors, client, settings):
    enterprise = await actors.user(Role.enterprise)
    for _ in range(settings.login_attempts_per_minute):
        response = await change(client, enterprise.headers, "not-the-password", NEW_PASSWORD)
        assert response.status_code == 403
    limited = await change(client, enterprise.headers, PASSWORD, NEW_PASSWORD)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
