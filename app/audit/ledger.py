"""Appending to and verifying the audit ledger (a SHA-256 hash chain in SQL)."""

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import LedgerEntry, LedgerHead
from app.db import utcnow
from app.schemas import format_timestamp

GENESIS_HASH = "0" * 64
VERIFY_BATCH = 5000


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, Decimals and times as strings."""

    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return f"{obj:f}"
        if isinstance(obj, datetime):
            return format_timestamp(obj)
        if hasattr(obj, "value"):  # enums
            return obj.value
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default)


def entry_hash(
    *, prev_hash: str, sequence: int, occurred_at: datetime, actor_id: int | None, action: str,
    entity_type: str, entity_id: int, payload: str,
) -> str:
    """The hash of one entry, chained to the previous one."""
    body = canonical_json({
        "sequence": sequence, "occurred_at": format_timestamp(occurred_at), "actor_id": actor_id,
        "action": action, "entity_type": entity_type, "entity_id": entity_id, "payload": payload,
    })
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


async def append(
    session: AsyncSession, *, actor_id: int | None, action: str, entity_type: str,
    entity_id: int, payload: dict[str, Any],
) -> LedgerEntry:
    """Add an entry in the caller's transaction, so the change and its record commit together."""
    head = await _lock_head(session)
    sequence = head.sequence + 1
    occurred_at = utcnow()
    text = canonical_json(payload)
    digest = entry_hash(
        prev_hash=head.hash, sequence=sequence, occurred_at=occurred_at, actor_id=actor_id,
        action=action, entity_type=entity_type, entity_id=entity_id, payload=text,
    )
    entry = LedgerEntry(
        sequence=sequence, occurred_at=occurred_at, actor_id=actor_id, action=action,
        entity_type=entity_type, entity_id=entity_id, payload=text, prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    await session.execute(
        update(LedgerHead).where(LedgerHead.id == 1).values(sequence=sequence, hash=digest)
    )
    await session.flush()
    return entry


async def _lock_head(session: AsyncSession) -> LedgerHead:
    # The UPDATE-first touch takes the write lock at once (SQLite) / the row lock (PostgreSQL),
    # so concurrent appenders queue here instead of reading the same head.
    await session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(id=1))
    head = await session.scalar(
        select(LedgerHead).where(LedgerHead.id == 1).execution_options(populate_existing=True)
    )
    if head is None:
        raise RuntimeError("audit_ledger_head is missing: run the migrations")
    return head


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    head: str
    first_bad_sequence: int | None = None
    reason: str | None = None


async def _entries(session: AsyncSession) -> AsyncIterator[LedgerEntry]:
    last = 0
    while True:
        batch = (await session.scalars(
            select(LedgerEntry).where(LedgerEntry.sequence > last)
            .order_by(LedgerEntry.sequence).limit(VERIFY_BATCH)
        )).all()
        if not batch:
            return
        for entry in batch:
            yield entry
        last = batch[-1].sequence
        session.expunge_all()


async def verify(session: AsyncSession) -> Verification:
    """Walk the chain; name the first entry that was edited, deleted, inserted or reordered."""
    prev_hash, expected, count = GENESIS_HASH, 1, 0
    async for entry in _entries(session):
        problem = _check(entry, expected=expected, prev_hash=prev_hash)
        if problem:
            return Verification(False, count, prev_hash, expected, problem)
        prev_hash, expected, count = entry.hash, expected + 1, count + 1
    head = await session.scalar(select(LedgerHead).where(LedgerHead.id == 1))
    if head is None:
        return Verification(False, count, prev_hash, count + 1, "the ledger head row is missing")
    if head.sequence != count:
        # Entries cut from the tail (head is ahead) or appended behind its back (head is behind).
        first_bad = min(head.sequence, count) + 1
        return Verification(False, count, prev_hash, first_bad, "the ledger head does not match")
    if head.hash != prev_hash:
        return Verification(False, count, prev_hash, count, "the last entry was rewritten")
    return Verification(True, count, prev_hash)


def _check(entry: LedgerEntry, *, expected: int, prev_hash: str) -> str | None:
    if entry.sequence != expected:
        return f"entry {expected} is missing (next is {entry.sequence})"
    if entry.prev_hash != prev_hash:
        return "prev_hash does not match the previous entry's hash (deleted or reordered)"
    recomputed = entry_hash(
        prev_hash=entry.prev_hash, sequence=entry.sequence, occurred_at=entry.occurred_at,
        actor_id=entry.actor_id, action=entry.action, entity_type=entry.entity_type,
        entity_id=entry.entity_id, payload=entry.payload,
    )
    if recomputed != entry.hash:
        return "the entry's content does not match its hash (edited)"
    return None
