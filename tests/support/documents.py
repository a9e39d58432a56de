"""Lot documents for tests: small files of each kind, uploads through the API, what is stored."""

import hashlib
from pathlib import Path

import httpx

from tests.support.actors import Actor
from tests.support.auctions import API

# A minimal file of each allowed kind (their magic bytes, then filler), and one that is none.
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 40 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 2
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 2
TEXT = b"Not a PDF at all, whatever its name says.\n" * 20


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def upload(
    client: httpx.AsyncClient, who: Actor | None, listing_id: int, data: bytes = PDF, *,
    name: str = "report.pdf", kind: str = "technical_report", visibility: str = "public",
    media_type: str = "application/pdf",
) -> httpx.Response:
    """POST the file as multipart/form-data, as a browser or curl -F would."""
    return await client.post(
        f"{API}/listings/{listing_id}/documents", headers=who.headers if who else {},
        files={"file": (name, data, media_type)}, data={"kind": kind, "visibility": visibility},
    )


async def uploaded(client, who: Actor, listing_id: int, data: bytes = PDF, **fields) -> dict:
    """A document uploaded (201 asserted); its body."""
    response = await upload(client, who, listing_id, data, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def stored_files(var_dir: Path) -> list[Path]:
    """Every file the document store holds (blobs and spooled uploads alike)."""
    root = var_dir / "documents"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
