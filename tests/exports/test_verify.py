"""`techauction verify-export FILE MANIFEST` offline: exit 0 only when both are intact; any
changed byte, row, manifest field or signature fails with exit 1, naming what differs."""

import asyncio
import base64
import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from app.audit import signing
from app.cli import app as cli
from tests.exports.support import API, ROWS, download, parse_csv


@pytest.fixture
async def saved(client, seeded, auditor, tmp_path):
    """A CSV export, its manifest and the server's public key, as an auditor keeps them."""

    async def save(fmt: str = "csv"):
        got = await download(client, auditor.headers, format=fmt)
        file, manifest = got.save(tmp_path, f"export-{fmt}")
        key = (await client.get(f"{API}/audit/public-key")).json()
        pem = tmp_path / "techauction-public.pem"
        pem.write_text(key["public_key_pem"])
        return file, manifest, pem

    return save


def verify(file, manifest, pem) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["verify-export", str(file), str(manifest), "--public-key", str(pem)]
    )
    return result.exit_code, " ".join(result.output.split())


def edit_manifest(path, change) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_untouched_export_verifies(saved, fmt):
    code, output = verify(*await saved(fmt))
    assert code == 0, output
    assert f"has {ROWS} rows" in output


async def test_one_changed_byte_fails(saved):
    file, manifest, pem = await saved()
    data = bytearray(file.read_bytes())
    at = data.index(b"100002.74")
    data[at] = ord("9")  # a hammer price 100002.74 -> 900002.74
    file.write_bytes(bytes(data))
    code, output = verify(file, manifest, pem)
    assert code == 1
    assert "EXPORT VERIFICATION FAILED" in output and "CONTENT" in output
    assert "ROW COUNT" not in output and "SIGNATURE" not in output


async def test_deleted_row_fails(saved):
    file, manifest, pem = await saved()
    lines = file.read_bytes().split(b"\r\n")
    del lines[1]  # the first data row (rows further on hold a quoted CR LF)
    file.write_bytes(b"\r\n".join(lines))
    code, output = verify(file, manifest, pem)
    assert code == 1
    assert f"FILE has {ROWS - 1} data rows, the manifest says {ROWS} (1 row deleted)" in output
    assert "CONTENT" in output


async def test_added_row_fails(saved):
    file, manifest, pem = await saved("ndjson")
    lines = file.read_bytes().splitlines(keepends=True)
    file.write_bytes(b"".join([*lines, lines[-1]]))
    code, output = verify(file, manifest, pem)
    assert code == 1
    assert f"FILE has {ROWS + 1} data rows, the manifest says {ROWS} (1 row added)" in output


@pytest.mark.parametrize(("field", "change", "also"), [
    ("row_count", lambda m: m.update(row_count=m["row_count"] - 1), "ROW COUNT"),
    ("filters", lambda m: m["filters"].update(institute=1), None),
    ("sha256", lambda m: m.update(sha256="0" * 64), "CONTENT"),
    ("ledger_head", lambda m: m["ledger_head"].update(sequence=m["ledger_head"]["sequence"] + 1), None),
    ("generated_at", lambda m: m.update(generated_at="2020-01-01T00:00:00.000Z"), None),
    ("format", lambda m: m.update(format="ndjson"), None),
    ("extra field", lambda m: m.update(note="looks fine"), "unexpected field 'note'"),
    ("missing field", lambda m: m.pop("ledger_head"), "field 'ledger_head' is missing"),
])
async def test_changed_manifest_field_fails(saved, field, change, also):
    file, manifest, pem = await saved()
    edit_manifest(manifest, change)
    code, output = verify(file, manifest, pem)
    assert code == 1, field
    assert "SIGNATURE: the signature does not verify with the trusted key" in output
    if also:
        assert also in output


async def test_replaced_signature_fails(saved):
    file, manifest, pem = await saved()
    forged = base64.b64encode(os.urandom(64)).decode()
    edit_manifest(manifest, lambda m: m.update(signature=forged))
    code, output = verify(file, manifest, pem)
    assert code == 1 and "SIGNATURE" in output
    assert "another manifest field" in output  # the file itself still matches


@pytest.mark.parametrize("keep_key_id", [False, True])
async def test_manifest_signed_with_another_key_fails(saved, keep_key_id):
    """A forger who edits the row count and re-signs with his own key is caught."""
    file, manifest, pem = await saved()
    forger = signing.Signer(Ed25519PrivateKey.generate())

    def resign(document):
        document["row_count"] += 1
        if not keep_key_id:
            document["key_id"] = forger.key_id
        body = {k: v for k, v in document.items() if k != "signature"}
        document["signature"] = forger.sign(body)

    edit_manifest(manifest, resign)
    code, output = verify(file, manifest, pem)
    assert code == 1
    assert "SIGNATURE: the signature does not verify" in output
    if not keep_key_id:
        assert f"names signing key '{forger.key_id}'" in output


async def test_untouched_export_with_the_wrong_trusted_key_fails(saved, tmp_path):
    file, manifest, _ = await saved()
    other = tmp_path / "other.pem"
    other.write_text(signing.public_key_pem(Ed25519PrivateKey.generate().public_key()))
    code, output = verify(file, manifest, other)
    assert code == 1 and "SIGNATURE" in output


async def test_unreadable_manifest_fails(saved):
    file, manifest, pem = await saved()
    manifest.write_text('{"row_count": 1, "row_count": 2}')
    code, output = verify(file, manifest, pem)
    assert code == 1 and "duplicate field" in output
    manifest.write_text("not json")
    assert verify(file, manifest, pem)[0] == 1
    assert verify(file.with_name("missing.csv"), manifest, pem)[0] == 1


async def test_cli_export_and_verify_with_the_configured_key(app, seeded, settings, tmp_path):
    """`techauction export` straight from the database, verified by the CLI with its own key."""
    env = os.environ | {"TECHAUCTION_DATABASE_URL": settings.database_url, "TECHAUCTION_ENV": "test",
                        "TECHAUCTION_VAR_DIR": str(settings.var_dir)}
    output = tmp_path / "settlements.csv"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env,
                              capture_output=True, text=True, check=False)

    done = await asyncio.to_thread(run, "export", "--format", "csv", "--output", str(output),
                                   "--institute", str(seeded.institute_ids[0]))
    assert done.returncode == 0, done.stderr
    rows = parse_csv(output.read_bytes())
    assert rows and {r["institute_organization_id"] for r in rows} == {str(seeded.institute_ids[0])}
    manifest = output.with_name("settlements.csv.manifest.json")
    document = json.loads(manifest.read_text())
    assert document["row_count"] == len(rows)
    assert document["filters"]["institute"] == seeded.institute_ids[0]
    key_file = settings.var_dir / signing.KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    # The API signs with the same key (it reads the same var_dir).
    assert document["key_id"] == signing.signer_from_settings(settings).key_id
    ok = await asyncio.to_thread(run, "verify-export", str(output), str(manifest))
    assert ok.returncode == 0, ok.stderr
    output.write_bytes(output.read_bytes().replace(b'"CNY"', b'"USD"', 1))
    bad = await asyncio.to_thread(run, "verify-export", str(output), str(manifest))
    assert bad.returncode == 1 and "CONTENT" in bad.stderr
