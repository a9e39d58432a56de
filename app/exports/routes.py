"""Auditor exports over HTTP: the streamed file, its signed manifest, and the public key.

The manifest can only be signed once the last byte is out (it holds the file's SHA-256), so
the stream stores it when it completes and the response names where to fetch it
(`X-Export-Id`, `Link: <...>; rel="manifest"`). Manifests live in Redis for MANIFEST_TTL:
each is a small signed receipt that verifies on its own, fetched right after the download;
the durable record stays the settlements and the ledger. Keeping them out of SQL needs no
schema change, and Redis is shared by every API process and expires them by itself.
"""

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from app.audit.signing import Signer, signer_from_settings
from app.errors import Conflict, NotFound, Unprocessable
from app.exports import service as exports
from app.schemas import MAX_DB_ID, ResponseModel, TimestampIn
from app.security import StaffReader

router = APIRouter(tags=["audit"])
MANIFEST_TTL = 24 * 3600  # seconds a manifest can be fetched after its export started
EXPORT_ID = r"^[0-9a-f]{32}$"


class LedgerHeadOut(BaseModel):
    sequence: int
    hash: str


class ExportFiltersOut(BaseModel):
    from_: str | None = Field(alias="from")
    to: str | None
    institute: int | None


class ExportManifest(BaseModel):
    """What `techauction verify-export` checks: the signature covers every other field."""

    format: exports.ExportFormat
    filters: ExportFiltersOut
    row_count: int
    sha256: str = Field(description="SHA-256 (hex) of the exact bytes of the file")
    ledger_head: LedgerHeadOut = Field(description="the audit ledger head in the export's snapshot")
    generated_at: str = Field(description="when the export's database snapshot was taken")
    key_id: str = Field(description="SHA-256 (hex) of the raw Ed25519 public key")
    signature: str = Field(
        description="base64 Ed25519 signature over the canonical JSON (sorted keys, no spaces) "
        "of all the other fields"
    )


class PublicKeyOut(ResponseModel):
    algorithm: str = "Ed25519"
    key_id: str
    public_key_pem: str
    public_key_base64: str = Field(description="the raw 32-byte public key, base64")


def signer(request: Request) -> Signer:
    """The signing key, loaded once per application."""
    signer = getattr(request.app.state, "export_signer", None)
    if signer is None:
        signer = request.app.state.export_signer = signer_from_settings(request.app.state.settings)
    return signer


def _key(request: Request, export_id: str) -> str:
    return f"{request.app.state.settings.redis_prefix}:export:{export_id}"


_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The export, streamed; the manifest is at the `Link` rel=manifest URL "
        "once the last byte has been sent.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
        "headers": {
            "X-Export-Id": {"schema": {"type": "string"}, "description": "the export's id"},
            "Link": {"schema": {"type": "string"}, "description": '<manifest URL>; rel="manifest"'},
        },
    }
}


@router.get(
    "/exports/settlements", response_class=StreamingResponse, responses=_STREAM_DOC,
    summary="Export settlements (CSV or NDJSON), streamed, with a signed manifest",
)
async def export_settlements(
    request: Request, principal: StaffReader,
    fmt: Annotated[exports.ExportFormat, Query(alias="format")] = exports.ExportFormat.csv,
    created_from: Annotated[
        TimestampIn | None, Query(alias="from", description="created at or after")] = None,
    created_to: Annotated[TimestampIn | None, Query(alias="to", description="created before")] = None,
    institute: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="institute org id")] = None,
) -> StreamingResponse:
    """Settlements ordered by (created_at, id), read from one database snapshot in constant
    memory. Filter times are ISO 8601 with a zone, taken to the millisecond; `from` is
    inclusive, `to` exclusive (so `from` at or after `to` selects nothing)."""
    try:
        filters = exports.ExportFilters(created_from, created_to, institute)
    except ValueError as exc:
        raise Unprocessable(str(exc)) from None
    export_id = uuid.uuid4().hex
    manifest_url = request.scope.get("root_path", "") + request.app.url_path_for(
        "export_manifest", export_id=export_id
    )
    return await stream(request, export_id, exports.Export(fmt, filters), manifest_url=manifest_url,
                        state={"requested_by": principal.user_id})


async def store_state(request: Request, export_id: str, state: dict[str, Any]) -> None:
    """Keep what is known of an export (its manifest once complete) for MANIFEST_TTL."""
    await request.app.state.redis.set(_key(request, export_id), json.dumps(state), ex=MANIFEST_TTL)


async def stream(request: Request, export_id: str, export: exports.Export, *, manifest_url: str,
                 state: dict[str, Any]) -> StreamingResponse:
    """The export's bytes, streamed; its signed manifest stored under export_id at the end.
    The API's export and the auditor's console download both answer with this."""
    key = signer(request)
    pending = state | {"state": "streaming"}
    await store_state(request, export_id, pending)
    engine = request.app.state.db_engine

    async def body():
        async for chunk in export.chunks(engine):
            yield chunk
        # Stored before the response's last message, so a client that saw the end finds it.
        manifest = export.manifest(key)
        await store_state(request, export_id, pending | {"state": "complete", "manifest": manifest})

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    fmt = export.fmt
    return StreamingResponse(body(), media_type=exports.MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="settlements-{stamp}.{fmt.value}"',
        "X-Export-Id": export_id,
        "Link": f'<{manifest_url}>; rel="manifest"',
        "Cache-Control": "no-store",
    })


async def stored_state(request: Request, export_id: str) -> dict[str, Any] | None:
    """What is stored of an export (None once expired or never made)."""
    raw = await request.app.state.redis.get(_key(request, export_id))
    return None if raw is None else json.loads(raw)


def manifest_of(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The signed manifest of a completed export; 404 expired, 409 incomplete."""
    if stored is None:
        raise NotFound("No such export (manifests are kept for 24 hours).", code="export_not_found")
    if stored.get("state") != "complete":
        raise Conflict(
            "The export has not completed: it is still streaming, or it was interrupted.",
            code="export_incomplete",
        )
    return stored["manifest"]


@router.get("/exports/{export_id}/manifest", response_model=ExportManifest)
async def export_manifest(
    request: Request, _: StaffReader, export_id: Annotated[str, Path(pattern=EXPORT_ID)],
) -> JSONResponse:
    """The signed manifest of a completed export (409 export_incomplete while it streams or
    if it was interrupted; 404 once expired)."""
    manifest = manifest_of(await stored_state(request, export_id))
    return JSONResponse(manifest, headers={"Cache-Control": "no-store"})


@router.get("/audit/public-key", response_model=PublicKeyOut)
async def public_key(request: Request) -> PublicKeyOut:
    """The Ed25519 public key that signs export manifests (public: anyone may verify)."""
    return PublicKeyOut(**signer(request).public_key_document())
