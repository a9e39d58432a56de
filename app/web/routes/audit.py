"""The auditor's console: the ledger check, exports with their manifest, checking an export.

An export is prepared (a form, CSRF-checked), then downloaded once: the file streams through
the API's export code (app/exports/routes.stream) and its signed manifest is stored as the
API's is; the manifest is then downloaded from the export's page. Uploading a file and its
manifest runs the checks of `techauction verify-export` against this server's public key.
"""

import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, Path
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from app.audit import ledger
from app.errors import AppError, Conflict, NotFound
from app.exports import routes as export_http
from app.exports import service as exports
from app.identity.models import Organization
from app.security import Role
from app.web.actions import refusal, require
from app.web.page import Page, PageDep, PageError
from app.web.views.audit import audit_filters, check_export

router = APIRouter(include_in_schema=False)
STAFF = (Role.auditor, Role.admin)  # who may export and check, as in the API
ExportId = Path(pattern=export_http.EXPORT_ID)


@router.get("/console/ledger")
async def ledger_check(page: PageDep) -> Response:
    require(page, *STAFF)
    result = await ledger.verify(page.db)
    return page.render("console/check.html", ledger=result)


@router.post("/console/exports")
async def prepare_export(page: PageDep) -> Response:
    posted = await page.form()
    require(page, *STAFF)
    filters = audit_filters(posted)
    fmt = posted.get("format", "csv")
    if filters.error or fmt not in tuple(exports.ExportFormat):
        return page.redirect(f"/console?error={filters.error or 'validation_error'}#export-h")
    export_id = secrets.token_hex(16)
    await export_http.store_state(page.request, export_id, {
        "state": "ready", "requested_by": page.user.id, "format": fmt,
        "filters": filters.export().as_dict(), "prepared_at": datetime.now(UTC).isoformat()})
    return page.redirect(f"/console/exports/{export_id}")


async def _stored(page: Page, export_id: str) -> dict:
    stored = await export_http.stored_state(page.request, export_id)
    if stored is None or stored.get("requested_by") != page.user.id:
        raise refusal(page, NotFound(code="export_not_found"))
    return stored


@router.get("/console/exports/{export_id}")
async def export_page(page: PageDep, export_id: str = ExportId) -> Response:
    require(page, *STAFF)
    stored = await _stored(page, export_id)
    return page.render("console/export.html", export_id=export_id, stored=stored,
                       institute_name=await _institute_name(page, stored))


async def _institute_name(page: Page, stored: dict) -> str | None:
    institute = (stored.get("filters") or {}).get("institute")
    if institute is None:
        return None
    return await page.db.scalar(select(Organization.name).where(Organization.id == institute))


@router.get("/console/exports/{export_id}/file")
async def export_file(page: PageDep, export_id: str = ExportId) -> Response:
    require(page, *STAFF)
    stored = await _stored(page, export_id)
    if stored.get("state") != "ready":
        raise refusal(page, Conflict(code="export_taken"))
    chosen = stored["filters"]
    filters = exports.ExportFilters(
        *(exports.parse_time(chosen[k]) if chosen.get(k) else None for k in ("from", "to")),
        chosen.get("institute"))
    export = exports.Export(exports.ExportFormat(stored["format"]), filters)
    response = await export_http.stream(
        page.request, export_id, export, manifest_url=f"/console/exports/{export_id}/manifest",
        state={k: v for k, v in stored.items() if k != "state"})
    return page.finish(response)


@router.get("/console/exports/{export_id}/manifest")
async def export_manifest(page: PageDep, export_id: str = ExportId) -> Response:
    require(page, *STAFF)
    stored = await _stored(page, export_id)
    try:
        manifest = export_http.manifest_of(stored)
    except AppError as exc:
        raise refusal(page, exc) from exc
    name = f"settlements-{export_id[:8]}.{stored['format']}.manifest.json"
    return page.finish(JSONResponse(manifest, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}))


@router.post("/console/exports/verify")
async def verify_export(page: PageDep) -> Response:
    await page.form()
    require(page, *STAFF)
    form = await page.request.form()  # the same parsed form, with its files
    upload, manifest = form.get("file"), form.get("manifest")
    if not isinstance(upload, UploadFile) or not isinstance(manifest, UploadFile):
        raise PageError(422, page.gettext("Choose the export file and its manifest."))
    try:
        raw = await manifest.read(65 * 1024)
        key = export_http.signer(page.request).public_key
        check = await run_in_threadpool(check_export, upload.file, raw, key, upload.filename or "")
    finally:
        await upload.close()
        await manifest.close()
    return page.render("console/check.html", check=check, status=200 if check.ok else 422)
