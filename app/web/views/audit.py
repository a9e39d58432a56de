"""The auditor's filters (dates in Beijing time), and checking an uploaded export."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, BinaryIO

from app.audit.signing import DocumentError, parse_document
from app.exports import service as exports
from app.settlements.models import SettlementStatus
from app.settlements.service import SettlementFilters
from app.web.i18n import DISPLAY_ZONE

MANIFEST_MAX_BYTES = 64 * 1024


@dataclass
class AuditFilters:
    """Settlements created from the first day to the last (both whole days, Beijing time)."""

    values: dict[str, str] = field(default_factory=dict)
    created_from: datetime | None = None
    created_to: datetime | None = None
    institute: int | None = None
    status: SettlementStatus | None = None
    error: str | None = None

    @property
    def settlements(self) -> SettlementFilters:
        return SettlementFilters(created_from=self.created_from, created_to=self.created_to,
                                 institute=self.institute, status=self.status)

    def export(self) -> exports.ExportFilters:
        return exports.ExportFilters(self.created_from, self.created_to, self.institute)


def _day(text: str, *, after: bool = False) -> datetime:
    day = date.fromisoformat(text) + timedelta(days=1 if after else 0)
    return datetime.combine(day, time(), tzinfo=DISPLAY_ZONE)


def audit_filters(query: Any) -> AuditFilters:
    """The filters of a query string or form (from, to, institute, status); bad ones noted."""
    values = {k: str(query.get(k, "")).strip()[:40] for k in ("from", "to", "institute", "status")}
    found = AuditFilters(values=values)
    try:
        if values["from"]:
            found.created_from = _day(values["from"])
        if values["to"]:
            found.created_to = _day(values["to"], after=True)  # the last day, whole
        if values["institute"]:
            found.institute = int(values["institute"]) if values["institute"].isdigit() else None
            if found.institute is None or found.institute > 2**62:
                raise ValueError(values["institute"])
        if values["status"]:
            found.status = SettlementStatus(values["status"])
    except ValueError:
        return AuditFilters(values=values, error="validation_error")
    if found.created_from and found.created_to and found.created_from >= found.created_to:
        return AuditFilters(values=values, error="invalid_range")
    return found


@dataclass
class ExportCheck:
    """What an uploaded export and manifest came to: intact, or the problems found."""

    problems: list[str]
    row_count: int | None = None
    sha256: str | None = None
    file_name: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def check_export(file: BinaryIO, manifest_bytes: bytes, public_key, file_name: str) -> ExportCheck:
    """The same checks as `techauction verify-export`, on uploaded files (run in a thread)."""
    if len(manifest_bytes) > MANIFEST_MAX_BYTES:
        return ExportCheck([f"MANIFEST: larger than {MANIFEST_MAX_BYTES} bytes: not a manifest"])
    try:
        document = parse_document(manifest_bytes, name="(uploaded)")
    except DocumentError as exc:
        return ExportCheck([str(exc)], file_name=file_name)
    file.seek(0)
    problems = exports.verify_export(file, document, public_key)
    return ExportCheck(problems, row_count=document.get("row_count"), sha256=document.get("sha256"),
                       file_name=file_name)
