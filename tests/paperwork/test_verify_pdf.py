"""`techauction verify-pdf FILE`: exit 0 for an intact document signed by the platform, 1 when
any byte changed, bytes were appended, another key signed it, or the file is not a signed PDF."""

import hashlib

import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from app.paperwork import confirmation, record
from app.paperwork.signing import KEY_FILE, PdfSigner, read_or_create
from bench.paperwork import confirmation_facts, record_facts

runner = CliRunner()


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """The platform's signing file, and a confirmation and a record it signed."""
    directory = tmp_path_factory.mktemp("paperwork")
    key_file = directory / KEY_FILE
    signer = PdfSigner(read_or_create(key_file))
    facts, bids = record_facts(25)
    return {
        "key_file": key_file, "signer": signer, "dir": directory,
        "confirmation": signer.sign(confirmation.render(confirmation_facts()), reason="test"),
        "record": signer.sign(record.render(facts, bids), reason="test"),
    }


def verify(path, key_file):
    return runner.invoke(cli, ["verify-pdf", str(path), "--cert", str(key_file)])


@pytest.mark.parametrize("kind", ["confirmation", "record"])
def test_intact_document_verifies(platform, kind):
    path = platform["dir"] / f"{kind}.pdf"
    path.write_bytes(platform[kind])
    result = verify(path, platform["key_file"])
    assert result.exit_code == 0, result.output
    assert "signature valid, document intact" in result.output
    assert "techauction platform" in result.output  # the signer
    assert hashlib.sha256(platform[kind]).hexdigest() in result.output


def _positions(data: bytes) -> list[int]:
    """Byte offsets across the file: the header, the body, the signature's own bytes, the end."""
    contents = data.index(b"/Contents <") + len(b"/Contents <") + 40
    return [10, len(data) // 4, len(data) // 2, contents, len(data) - 10]


@pytest.mark.parametrize("which", range(5))
def test_a_changed_byte_fails(platform, which):
    data = bytearray(platform["confirmation"])
    position = _positions(bytes(data))[which]
    # another byte, still a hex digit inside the signature's contents
    data[position] = ord("1") if data[position] != ord("1") else ord("2")
    path = platform["dir"] / f"changed-{which}.pdf"
    path.write_bytes(bytes(data))
    result = verify(path, platform["key_file"])
    assert result.exit_code == 1, (position, result.output)
    assert "PDF VERIFICATION FAILED" in result.output


def test_appended_bytes_fail(platform):
    path = platform["dir"] / "appended.pdf"
    path.write_bytes(platform["confirmation"] + b"%extra\n")
    result = verify(path, platform["key_file"])
    assert result.exit_code == 1 and "outside what the signature covers" in result.output


def test_another_key_fails(platform, tmp_path):
    other = PdfSigner(read_or_create(tmp_path / KEY_FILE))
    path = tmp_path / "forged.pdf"
    path.write_bytes(other.sign(confirmation.render(confirmation_facts()), reason="forged"))
    result = verify(path, platform["key_file"])
    assert result.exit_code == 1 and "not the platform's certificate" in result.output


def test_unsigned_or_not_a_pdf_fails(platform, tmp_path):
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(confirmation.render(confirmation_facts()))
    assert verify(unsigned, platform["key_file"]).exit_code == 1
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf at all")
    assert verify(junk, platform["key_file"]).exit_code == 1
    assert verify(tmp_path / "missing.pdf", platform["key_file"]).exit_code == 1
