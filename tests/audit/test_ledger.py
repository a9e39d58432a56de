"""The audit ledger: every state change chained by hash; verify names the first tampered entry."""

import asyncio
import itertools
import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from app.security import Role

API = "/api/v1"


async def _sql(app, statement: str, **params) -> None:
    async with app.state.db_engine.begin() as conn:
        await conn.execute(text(statement), params)


async def _verify(client, headers) -> dict:
    response = await client.get(f"{API}/audit/verify", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _some_history(actors) -> int:
    """A few state changes; returns how many ledger entries exist."""
    for kind in ("institute", "enterprise", "auditor"):
        await actors.organization(kind)
    body = (await _verify(actors.client, actors.admin.headers))
    assert body["ok"] is True
    return body["entries"]


async def test_state_changes_are_chained_and_verify(actors, client):
    auditor = await actors.user(Role.auditor)
    body = await _verify(client, auditor.headers)
    assert body["ok"] is True and body["entries"] >= 3 and len(body["head"]) == 64
    entries = (await client.get(f"{API}/audit/ledger", headers=auditor.headers)).json()["items"]
    assert [e["sequence"] for e in entries] == list(range(body["entries"], 0, -1))
    assert entries[0]["hash"] == body["head"]
    for newer, older in itertools.pairwise(entries):
        assert newer["prev_hash"] == older["hash"]
    assert {e["action"] for e in entries} >= {"organization.created", "user.created"}


@pytest.mark.parametrize("role", [Role.institute, Role.enterprise])
async def test_only_staff_read_the_ledger(actors, client, role):
    member = await actors.user(role)
    assert (await client.get(f"{API}/audit/verify", headers=member.headers)).status_code == 403
    assert (await client.get(f"{API}/audit/ledger", headers=member.headers)).status_code == 403
    assert (await client.get(f"{API}/audit/verify")).status_code == 401


@pytest.mark.parametrize("params", [{"action": "user.created\x00"}, {"entity_type": "\x00"}])
async def test_nul_in_filters_is_422(actors, client, params):
    """PostgreSQL refuses NUL even in a comparison (found by fuzzing)."""
    response = await client.get(f"{API}/audit/ledger", params=params, headers=actors.admin.headers)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


async def test_edited_entry_is_named(actors, client, app):
    count = await _some_history(actors)
    target = count - 1
    await _sql(app, "UPDATE audit_ledger SET payload = '{\"name\":\"forged\"}' WHERE sequence = :s",
               s=target)
    body = await _verify(client, actors.admin.headers)
    assert body == {"ok": False, "entries": target - 1, "head": body["head"],
                    "first_bad_sequence": target, "reason": body["reason"]}
    assert "edited" in body["reason"]


async def test_deleted_entry_is_named(actors, client, app):
    count = await _some_history(actors)
    await _sql(app, "DELETE FROM audit_ledger WHERE sequence = :s", s=2)
    body = await _verify(client, actors.admin.headers)
    assert body["ok"] is False and body["first_bad_sequence"] == 2
    assert count > 2


async def test_deleted_last_entry_is_named(actors, client, app):
    count = await _some_history(actors)
    await _sql(app, "DELETE FROM audit_ledger WHERE sequence = :s", s=count)
    body = await _verify(client, actors.admin.headers)
    assert body["ok"] is False and body["first_bad_sequence"] == count


async def test_swapped_entries_are_named(actors, client, app):
    await _some_history(actors)
    # Swap the content of entries 2 and 3 (their hashes and links travel with them).
    await _sql(app, """
        UPDATE audit_ledger SET sequence = -sequence WHERE sequence IN (2, 3)""")
    await _sql(app, "UPDATE audit_ledger SET sequence = 3 WHERE sequence = -2")
    await _sql(app, "UPDATE audit_ledger SET sequence = 2 WHERE sequence = -3")
    body = await _verify(client, actors.admin.headers)
    assert body["ok"] is False and body["first_bad_sequence"] == 2


async def test_concurrent_changes_keep_one_chain(actors, client):
    before = (await _verify(client, actors.admin.headers))["entries"]
    await asyncio.gather(*(actors.organization("enterprise") for _ in range(30)))
    body = await _verify(client, actors.admin.headers)
    assert body["ok"] is True and body["entries"] == before + 30


async def test_cli_verify_exit_codes(actors, app, settings):
    await _some_history(actors)
    env = os.environ | {"TECHAUCTION_DATABASE_URL": settings.database_url,
                        "TECHAUCTION_ENV": "test", "TECHAUCTION_VAR_DIR": str(settings.var_dir)}
    cli = [sys.executable, "-m", "app.cli", "audit", "verify"]
    ok = await asyncio.to_thread(subprocess.run, cli, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "ledger ok" in ok.stderr
    await _sql(app, "UPDATE audit_ledger SET actor_id = 999 WHERE sequence = 2")
    bad = await asyncio.to_thread(subprocess.run, cli, env=env, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "sequence 2" in bad.stderr
