"""GET /exports/settlements: both formats, filters, roles; the manifest and the public key."""

import base64
import hashlib
from datetime import timedelta, timezone

import pytest

from app import keys
from app.audit import signing
from app.audit.ledger import canonical_json
from app.exports import service as exports
from app.schemas import format_timestamp
from app.security import Role
from tests.exports.support import (
    API,
    ROWS,
    START,
    STEP_MS,
    TRICKY_BUYER,
    TRICKY_TITLE,
    as_csv_strings,
    download,
    expected_rows,
    parse_csv,
    parse_ndjson,
)


async def _public_key(client):
    response = await client.get(f"{API}/audit/public-key")
    assert response.status_code == 200, response.text
    return response.json()


async def test_csv_parses_back_to_the_settlements(app, client, seeded, auditor):
    got = await download(client, auditor.headers, format="csv")
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"].startswith("attachment; filename=\"settlements-")
    assert got.body.startswith(b"settlement_id,created_at,")
    assert got.body.endswith(b"\r\n")
    rows = parse_csv(got.body)
    assert list(rows[0]) == list(exports.COLUMNS)
    assert rows == as_csv_strings(await expected_rows(app))
    assert len(rows) == ROWS
    assert TRICKY_TITLE in {r["listing_title"] for r in rows}
    assert TRICKY_BUYER in {r["buyer_name"] for r in rows}
    first = rows[0]
    assert first["created_at"] == format_timestamp(START + timedelta(milliseconds=STEP_MS))
    assert first["hammer_price"] == "100001.37" and first["buyer_premium_rate"] == "0.0500"
    assert first["second_chance_of_id"] == "" and rows[1]["second_chance_of_id"] == first["settlement_id"]


async def test_ndjson_has_typed_values(app, client, seeded, auditor):
    got = await download(client, auditor.headers, format="ndjson")
    assert got.headers["content-type"] == "application/x-ndjson"
    assert got.body.endswith(b"\n") and got.body.count(b"\n") == ROWS
    rows = parse_ndjson(got.body)
    assert rows == await expected_rows(app)
    assert isinstance(rows[0]["settlement_id"], int) and isinstance(rows[0]["amount_due"], str)
    assert rows[0]["second_chance_of_id"] is None
    assert got.manifest["format"] == "ndjson" and got.manifest["row_count"] == ROWS


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_manifest_is_signed_over_the_exact_bytes(client, seeded, auditor, fmt):
    got = await download(client, auditor.headers, format=fmt)
    manifest = got.manifest
    assert set(manifest) == {"format", "filters", "row_count", "sha256", "ledger_head",
                             "generated_at", "key_id", "signature"}
    assert manifest["sha256"] == hashlib.sha256(got.body).hexdigest()
    assert manifest["row_count"] == ROWS
    assert manifest["filters"] == {"from": None, "to": None, "institute": None}
    head = (await client.get(f"{API}/audit/verify", headers=auditor.headers)).json()
    assert manifest["ledger_head"] == {"sequence": head["entries"], "hash": head["head"]}
    key = await _public_key(client)
    assert manifest["key_id"] == key["key_id"]
    public = keys.parse_public_key(key["public_key_pem"])
    body = {k: v for k, v in manifest.items() if k != "signature"}
    public.verify(base64.b64decode(manifest["signature"]), canonical_json(body).encode())


async def test_public_key_is_public_and_consistent(client):
    key = await _public_key(client)
    assert key["algorithm"] == "Ed25519"
    raw = base64.b64decode(key["public_key_base64"])
    assert len(raw) == 32 and key["key_id"] == hashlib.sha256(raw).hexdigest()
    assert signing.key_id(keys.parse_public_key(key["public_key_pem"])) == key["key_id"]
    assert (await _public_key(client)) == key


async def test_filters(app, client, seeded, auditor):
    institute = seeded.institute_ids[1]
    start = START + timedelta(milliseconds=STEP_MS * 3)
    end = START + timedelta(milliseconds=STEP_MS * 9)
    shanghai = timezone(timedelta(hours=8))
    got = await download(client, auditor.headers, format="csv", institute=institute,
                         from_=start.isoformat(), to=end.astimezone(shanghai).isoformat())
    expected = await expected_rows(app, institute=institute, created_from=start, created_to=end)
    rows = parse_csv(got.body)
    assert rows == as_csv_strings(expected) and rows
    assert {r["institute_organization_id"] for r in rows} == {str(institute)}
    assert got.manifest["filters"] == {
        "from": format_timestamp(start), "to": format_timestamp(end), "institute": institute,
    }
    assert got.manifest["row_count"] == len(rows)


async def test_from_is_inclusive_and_to_exclusive(client, seeded, auditor):
    second = START + timedelta(milliseconds=STEP_MS * 2)
    got = await download(client, auditor.headers, format="ndjson",
                         from_=format_timestamp(second),
                         to=format_timestamp(second + timedelta(milliseconds=1)))
    rows = parse_ndjson(got.body)
    assert [r["created_at"] for r in rows] == [format_timestamp(second)]


async def test_empty_export_still_has_a_manifest(client, seeded, auditor):
    got = await download(client, auditor.headers, format="csv", institute=10**12)
    assert got.body == (",".join(exports.COLUMNS) + "\r\n").encode()
    assert got.manifest["row_count"] == 0
    ndjson = await download(client, auditor.headers, format="ndjson", institute=10**12)
    assert ndjson.body == b"" and ndjson.manifest["sha256"] == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("params", [
    {"format": "xml"},
    {"from": "2026-03-01T00:00:00"},  # no zone
    {"from": "yesterday"},
    # (from at or after to is an empty range, not an error: tests/core/test_hostile_input.py)
    {"institute": "0"},
    {"from": "0001-01-01T00:00:00+01:00"}, {"to": "9999-12-31T23:59:59-01:00"},  # no UTC instant
])
async def test_bad_filters_are_refused(client, auditor, params):
    response = await client.get(f"{API}/exports/settlements", params=params, headers=auditor.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_admin_may_export(client, seeded, actors):
    got = await download(client, actors.admin.headers, format="csv")
    assert got.manifest["row_count"] == ROWS


@pytest.mark.parametrize("role", [Role.institute, Role.enterprise])
async def test_other_roles_are_refused(client, seeded, actors, role):
    member = await actors.user(role)
    response = await client.get(f"{API}/exports/settlements", headers=member.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"
    manifest = await client.get(f"{API}/exports/{'0' * 32}/manifest", headers=member.headers)
    assert manifest.status_code == 403


async def test_anonymous_is_refused(client, seeded):
    response = await client.get(f"{API}/exports/settlements")
    assert response.status_code == 401
    assert (await client.get(f"{API}/exports/{'0' * 32}/manifest")).status_code == 401


async def test_unknown_and_unfinished_manifests(app, client, auditor):
    missing = await client.get(f"{API}/exports/{'ab' * 16}/manifest", headers=auditor.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "export_not_found"
    malformed = await client.get(f"{API}/exports/not-an-id/manifest", headers=auditor.headers)
    assert malformed.status_code == 422
    prefix = app.state.settings.redis_prefix
    await app.state.redis.set(f"{prefix}:export:{'cd' * 16}", '{"state": "streaming"}', ex=60)
    streaming = await client.get(f"{API}/exports/{'cd' * 16}/manifest", headers=auditor.headers)
    assert streaming.status_code == 409 and streaming.json()["code"] == "export_incomplete"


async def test_export_reads_one_snapshot(app, seeded):
    """Rows and the ledger head come from the moment the export began, whatever commits later."""
    from app.audit import ledger

    export = exports.Export(exports.ExportFormat.csv)
    chunks = export.chunks(app.state.db_engine)
    header = await anext(chunks)  # the snapshot is open: the ledger head has been read
    async with app.state.sessionmaker() as session:
        await ledger.append(session, actor_id=None, action="test.during_export", entity_type="test",
                            entity_id=1, payload={})
        await session.execute(exports.Settlement.__table__.delete().where(
            exports.Settlement.__table__.c.id == seeded.first_id + ROWS - 1))
        await session.commit()
    rest = b"".join([chunk async for chunk in chunks])
    assert len(parse_csv(header + rest)) == ROWS == export.row_count
    async with app.state.sessionmaker() as session:
        now = await ledger.verify(session)
    assert export.ledger_head["sequence"] == now.entries - 1


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_database_made_lines_equal_python_made_ones(app, seeded, fmt):
    """PostgreSQL writes the lines itself; they must be the bytes Python writes from the values."""
    engine = app.state.db_engine
    export = exports.Export(exports.ExportFormat(fmt))
    body = b"".join([chunk async for chunk in export.chunks(engine)])
    async with exports.snapshot(engine) as conn:
        stmt, formatters = exports._select(
            conn.dialect.name, exports.ExportFormat(fmt), exports.ExportFilters(), lines=False)
        rows = (await conn.execute(stmt)).all()
    header = (",".join(exports.COLUMNS) + "\r\n").encode() if fmt == "csv" else b""
    assert body == header + exports._encode(exports.ExportFormat(fmt), rows, formatters)
