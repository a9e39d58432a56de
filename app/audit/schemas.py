"""Audit responses."""

from pydantic import Field

from app.schemas import ResponseModel, Timestamp


class VerifyResult(ResponseModel):
    """The ledger check: ok with the entry count and head hash, or the first bad entry."""

    ok: bool
    entries: int
    head: str
    first_bad_sequence: int | None = Field(default=None)
    reason: str | None = None


class LedgerEntryOut(ResponseModel):
    sequence: int
    occurred_at: Timestamp
    actor_id: int | None
    action: str
    entity_type: str
    entity_id: int
    payload: str
    prev_hash: str
    hash: str
