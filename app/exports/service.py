"""Settlement exports: streamed in constant memory from one database snapshot, with a manifest.

Rows come from a server-side cursor in batches; each batch is encoded, hashed and handed on.
The manifest states the filters, the row count, the SHA-256 of the exact bytes, the ledger head
read in the same snapshot, and an Ed25519 signature. On PostgreSQL the database writes each CSV
line (and formats money and times as text); on SQLite (embedded) Python makes the same bytes.
"""

import csv
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import BigInteger, Select, String, Text, cast, func, literal_column, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.audit.models import LedgerHead
from app.audit.signing import Signer, signature_problems
from app.identity.models import Organization
from app.listings.models import Listing
from app.schemas import format_timestamp
from app.settlements.models import Settlement

# Rows per fetch: PostgreSQL sends ready-made lines; SQLite rows become Python objects first.
BATCH_ROWS = {"postgresql": 1000, "sqlite": 500}
CSV_LINE_END = "\r\n"  # RFC 4180


class ExportFormat(StrEnum):
    csv = "csv"
    ndjson = "ndjson"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8; header=present",
    ExportFormat.ndjson: "application/x-ndjson",
}

# The columns, in file order: what an auditor needs to trace a settlement to its auction,
# lot, seller, buyer and bid trail. Money as decimal strings, timestamps ISO 8601 UTC with Z.
COLUMNS = (
    "settlement_id", "created_at", "auction_id", "attempt", "second_chance_of_id",
    "listing_id", "listing_title", "institute_organization_id", "institute_name",
    "buyer_organization_id", "buyer_name", "paddle", "currency", "hammer_price",
    "buyer_premium_rate", "buyer_premium", "seller_commission_rate", "seller_commission",
    "deposit_applied", "amount_due", "due_date", "status", "bid_count", "bid_trail_sha256",
)
TEXT_COLUMNS = frozenset(
    ("listing_title", "institute_name", "buyer_name", "paddle", "currency", "status", "bid_trail_sha256"))
_TEXT_MASK = tuple(name in TEXT_COLUMNS for name in COLUMNS)
MONEY = ("hammer_price", "buyer_premium", "seller_commission", "deposit_applied", "amount_due")
RATES = ("buyer_premium_rate", "seller_commission_rate")
INTEGERS = frozenset(COLUMNS) - TEXT_COLUMNS - {"created_at", "due_date", *MONEY, *RATES}


def to_utc_ms(value: datetime) -> datetime:
    """A filter time as UTC truncated to the millisecond (what the manifest states)."""
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a time zone (use Z for UTC)")
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def parse_time(text: str) -> datetime:
    """An ISO 8601 time with a zone (Z or an offset), as UTC milliseconds."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from exc
    return to_utc_ms(value)


@dataclass(frozen=True)
class ExportFilters:
    """created_at in [from, to) (either may be open) and the institute's organisation."""

    created_from: datetime | None = None
    created_to: datetime | None = None
    institute: int | None = None

    def __post_init__(self) -> None:
        for name in ("created_from", "created_to"):
            if (value := getattr(self, name)) is not None:
                object.__setattr__(self, name, to_utc_ms(value))
        # from at or after to is an empty range: it selects nothing, like any other filter

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": format_timestamp(self.created_from) if self.created_from else None,
            "to": format_timestamp(self.created_to) if self.created_to else None,
            "institute": self.institute,
        }


def _cents(value: int | None) -> str | None:
    if value is None:
        return None
    return f"{'-' if value < 0 else ''}{abs(value) // 100}.{abs(value) % 100:02d}"


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def _timestamp(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def _csv_field(expr: Any, *, text_value: bool) -> Any:
    """One CSV field made by PostgreSQL exactly as csv_line() makes it."""
    if not text_value:
        return func.coalesce(cast(expr, Text), "")
    quote = literal_column("'\"'", Text)
    return quote + func.replace(func.coalesce(expr, ""), '"', '""') + quote


def _json_member(name: str, expr: Any, *, text_value: bool) -> Any:
    """`"name":value` made by PostgreSQL exactly as json.dumps makes it (same escapes)."""
    value = cast(func.to_json(expr), Text) if text_value else cast(expr, Text)
    return literal_column(f"'\"{name}\":'", Text) + func.coalesce(value, "null")


def _quote(value: str | None) -> str:
    return '"' + ("" if value is None else value).replace('"', '""') + '"'


def csv_line(values: Any) -> str:
    """One CSV record (RFC 4180): text columns always quoted, numbers, money and times bare."""
    return ",".join([
        _quote(v) if text else ("" if v is None else str(v))
        for v, text in zip(values, _TEXT_MASK, strict=True)
    ])


def _select(
    dialect: str, fmt: ExportFormat, filters: ExportFilters, *, lines: bool | None = None,
) -> tuple[Select, list | None]:
    """The export query and, per column, the Python formatter its value still needs.

    On PostgreSQL the query selects one ready-made line per row (formatters None), unless
    lines=False asks for the columns.
    """
    s = Settlement.__table__.c
    listing = Listing.__table__
    institute = Organization.__table__.alias("institute")
    buyer = Organization.__table__.alias("buyer")
    pg = dialect == "postgresql"
    columns: dict[str, Any] = {name: s[name] for name in COLUMNS if name in s} | {
        "settlement_id": s.id, "listing_title": listing.c.title, "institute_name": institute.c.name,
        "buyer_name": buyer.c.name, "status": type_coerce(s.status, String),
    }
    formatters: dict[str, Callable] = {}
    if pg:  # text straight from the database: no per-row Decimal or datetime objects
        columns |= {
            "created_at": func.to_char(
                func.timezone("UTC", s.created_at), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"', type_=Text
            ),
            "due_date": func.to_char(s.due_date, "YYYY-MM-DD", type_=Text),
        } | {name: cast(s[name], Text) for name in (*MONEY, *RATES)}
    else:  # SQLite keeps integer cents and text dates; format those here
        columns |= {"created_at": s.created_at, "due_date": type_coerce(s.due_date, String)}
        columns |= {name: type_coerce(s[name], BigInteger) for name in MONEY}
        columns |= {name: s[name] for name in RATES}
        formatters = {"created_at": _timestamp} | dict.fromkeys(MONEY, _cents)
        formatters |= dict.fromkeys(RATES, _decimal)
    lines = pg if lines is None else lines
    if lines and fmt is ExportFormat.csv:
        fields = [_csv_field(columns[n], text_value=n in TEXT_COLUMNS) for n in COLUMNS]
        selected = [func.concat_ws(",", *fields, type_=Text).label("line")]
    elif lines:  # NDJSON: text and formatted values are JSON strings, the ids numbers
        members = [_json_member(n, columns[n], text_value=n not in INTEGERS) for n in COLUMNS]
        selected = [func.concat("{", func.concat_ws(",", *members), "}", type_=Text).label("line")]
    else:
        selected = [columns[name].label(name) for name in COLUMNS]
    stmt = (
        select(*selected)
        .select_from(
            Settlement.__table__.join(listing, listing.c.id == s.listing_id)
            .join(institute, institute.c.id == s.institute_organization_id)
            .join(buyer, buyer.c.id == s.buyer_organization_id)
        )
        .order_by(s.created_at, s.id)
    )
    stmt = _where(stmt, filters)
    if len(selected) == 1:
        return stmt, None
    return stmt, [formatters.get(name) for name in COLUMNS]


def _where(stmt: Select, filters: ExportFilters) -> Select:
    s = Settlement.__table__.c
    if filters.created_from is not None:
        stmt = stmt.where(s.created_at >= filters.created_from)
    if filters.created_to is not None:
        stmt = stmt.where(s.created_at < filters.created_to)
    if filters.institute is not None:
        stmt = stmt.where(s.institute_organization_id == filters.institute)
    return stmt


def _count(filters: ExportFilters) -> Select:
    """How many rows the export will have (every settlement joins exactly one of each)."""
    return _where(select(func.count()).select_from(Settlement.__table__), filters)


async def _batches(conn: AsyncConnection, stmt: Select) -> AsyncIterator[list]:
    """The rows in lists of BATCH_ROWS from a server-side cursor."""
    size = BATCH_ROWS.get(conn.dialect.name, 500)
    result = await conn.stream(stmt.execution_options(yield_per=size))
    async for rows in result.partitions():
        yield rows


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only connection whose reads all see one snapshot of the database."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with conn.begin():
                # JIT compiling the per-row formatting costs more than it saves here.
                await conn.exec_driver_sql("SET LOCAL jit = off")
                yield conn
            return
        # SQLite (WAL): an explicit deferred BEGIN makes every read until the end one snapshot.
        await conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            await conn.rollback()


def _encode(fmt: ExportFormat, rows: list, formatters: list | None) -> bytes:
    """A batch of rows as bytes of the export format (one row's values at a time)."""
    if formatters is None:  # PostgreSQL made the lines
        end = CSV_LINE_END if fmt is ExportFormat.csv else "\n"
        return (end.join([row[0] for row in rows]) + end).encode()
    active = [(i, f) for i, f in enumerate(formatters) if f is not None]
    values = (_format_row(row, active) for row in rows) if active else iter(rows)
    if fmt is ExportFormat.csv:
        return (CSV_LINE_END.join(map(csv_line, values)) + CSV_LINE_END).encode()
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return "".join([dumps(dict(zip(COLUMNS, row, strict=True))) + "\n" for row in values]).encode()


@dataclass
class Export:
    """One export: iterate chunks() to get the file's bytes, then ask for the manifest."""

    fmt: ExportFormat
    filters: ExportFilters = field(default_factory=ExportFilters)
    row_count: int = 0
    total: int | None = None  # rows to come (only when counted up front)
    ledger_head: dict[str, Any] | None = None
    generated_at: datetime | None = None
    complete: bool = False
    _digest: Any = field(default_factory=hashlib.sha256)

    async def chunks(self, engine: AsyncEngine, *, count_first: bool = False) -> AsyncIterator[bytes]:
        """The file's bytes in chunks of about BATCH_ROWS rows, read in constant memory."""
        async with snapshot(engine) as conn:
            stmt, formatters = _select(conn.dialect.name, self.fmt, self.filters)
            head = (await conn.execute(
                select(LedgerHead.sequence, LedgerHead.hash).where(LedgerHead.id == 1)
            )).one_or_none()
            if head is None:
                raise RuntimeError("audit_ledger_head is missing: run the migrations")
            self.ledger_head = {"sequence": head.sequence, "hash": head.hash}
            self.generated_at = datetime.now(UTC)
            if count_first:
                self.total = await conn.scalar(_count(self.filters))
            if self.fmt is ExportFormat.csv:
                yield self._account((",".join(COLUMNS) + CSV_LINE_END).encode(), 0)
            async for rows in _batches(conn, stmt):
                yield self._account(_encode(self.fmt, rows, formatters), len(rows))
        self.complete = True

    def _account(self, data: bytes, rows: int) -> bytes:
        self._digest.update(data)
        self.row_count += rows
        return data

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def manifest(self, signer: Signer) -> dict[str, Any]:
        """The signed manifest of the completed export."""
        if not self.complete or self.generated_at is None:
            raise RuntimeError("the export has not been read to the end")
        body = {
            "format": self.fmt.value, "filters": self.filters.as_dict(),
            "row_count": self.row_count, "sha256": self.sha256, "ledger_head": self.ledger_head,
            "generated_at": format_timestamp(self.generated_at), "key_id": signer.key_id,
        }
        return body | {"signature": signer.sign(body)}


def _format_row(row: Any, active: list[tuple[int, Callable]]) -> list:
    values = list(row)
    for index, formatter in active:
        values[index] = formatter(values[index])
    return values


def manifest_path(output: Path) -> Path:
    """Where the CLI writes the manifest of output: FILE.manifest.json beside it."""
    return output.with_name(output.name + ".manifest.json")


async def export_to_file(
    engine: AsyncEngine, export: Export, signer: Signer, output: Path,
    progress: Callable[[int, int | None], None] | None = None,
) -> dict[str, Any]:
    """Write the export to output and its signed manifest beside it; returns the manifest."""
    try:
        with output.open("wb", buffering=1 << 20) as handle:
            async for chunk in export.chunks(engine, count_first=progress is not None):
                handle.write(chunk)
                if progress is not None:
                    progress(export.row_count, export.total)
    except BaseException:
        _discard(output)
        raise
    manifest = export.manifest(signer)
    target = manifest_path(output)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    partial.replace(target)
    return manifest


def _discard(output: Path) -> None:
    if output.is_file():  # never leave a partial file under the final name
        output.unlink()


# --- offline verification (verify-export) ---------------------------------------------------

MANIFEST_FIELDS = {
    "format": str, "filters": dict, "row_count": int, "sha256": str, "ledger_head": dict,
    "generated_at": str, "key_id": str, "signature": str,
}


def inspect_file(path: Path, fmt: str) -> tuple[str, int, str | None]:
    """SHA-256, data-row count and any parse problem of an export file, read once."""
    with path.open("rb") as handle:
        return inspect_stream(handle, fmt)


def inspect_stream(handle: BinaryIO, fmt: str) -> tuple[str, int, str | None]:
    """SHA-256, data-row count and any parse problem of an open export file (binary), read once."""
    digest = hashlib.sha256()

    def lines(handle: Any) -> Iterator[str]:
        for raw in handle:
            digest.update(raw)
            yield raw.decode()

    rows, problem = 0, None
    try:
        if fmt == ExportFormat.csv:
            rows = max(sum(1 for _ in csv.reader(lines(handle))) - 1, 0)  # minus the header
        else:
            rows = sum(1 for line in lines(handle) if line.strip())
    except (csv.Error, UnicodeDecodeError) as exc:
        problem = f"FILE is not a well-formed {fmt} export ({exc})"
    for raw in iter(lambda: handle.read(1 << 20), b""):  # the rest, after a parse error
        digest.update(raw)
    return digest.hexdigest(), rows, problem


def _manifest_problems(manifest: dict[str, Any]) -> list[str]:
    problems = []
    for name, kind in MANIFEST_FIELDS.items():
        value = manifest.get(name)
        if name not in manifest:
            problems.append(f"MANIFEST: field '{name}' is missing")
        elif not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"MANIFEST: field '{name}' has the wrong type ({type(value).__name__})")
    if isinstance(manifest.get("format"), str) and manifest["format"] not in tuple(ExportFormat):
        problems.append(f"MANIFEST: unknown format {manifest['format']!r}")
    for extra in sorted(set(manifest) - set(MANIFEST_FIELDS)):
        problems.append(f"MANIFEST: unexpected field '{extra}'")
    return problems


def verify_export(file: Path | BinaryIO, manifest: dict[str, Any],
                  public_key: Ed25519PublicKey) -> list[str]:
    """Everything that does not match; empty when file (a path or an open binary file) and
    manifest are both intact. The CLI's verify-export and the auditor's console use it."""
    problems = _manifest_problems(manifest) + signature_problems(manifest, public_key)
    signed = not any(p.startswith("SIGNATURE") for p in problems)
    fmt = manifest.get("format")
    fmt = fmt if fmt in tuple(ExportFormat) else "csv"
    inspect = inspect_file if isinstance(file, Path) else inspect_stream
    sha256, rows, problem = inspect(file, fmt)
    problems += [problem] if problem else []
    if sha256 != manifest.get("sha256"):
        problems.append(
            f"CONTENT: the SHA-256 of FILE is {sha256}, the manifest says "
            f"{manifest.get('sha256')}: the file's bytes were changed (or the manifest's sha256)"
        )
    expected = manifest.get("row_count")
    if rows != expected:
        diff = rows - expected if type(expected) is int else 0
        change = f" ({abs(diff)} row{'s' * (abs(diff) != 1)} {'added' if diff > 0 else 'deleted'})"
        problems.append(f"ROW COUNT: FILE has {rows} data rows, the manifest says "
                        f"{expected}{change if diff else ''}")
    if not signed and sha256 == manifest.get("sha256") and rows == expected:
        problems.append(
            "SIGNATURE: the file matches the manifest's sha256 and row_count, so another manifest "
            "field (format, filters, ledger_head, generated_at, key_id) or the signature was altered"
        )
    return problems
