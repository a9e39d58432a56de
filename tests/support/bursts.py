"""What a bidding burst saw: every answer its bidders got, in process or across a fault."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import httpx

REFUSALS = {"bid_too_low", "already_leading", "auction_closed"}


@dataclass
class Burst:
    """Every answer the bidders got."""

    created: list[tuple[int, str | None, dict]] = field(default_factory=list)  # (org, key, 201 body)
    refused: Counter = field(default_factory=Counter)  # code -> count
    errors: Counter = field(default_factory=Counter)  # 5xx and transport errors
    unexpected: list[str] = field(default_factory=list)
    best: Decimal = Decimal(0)
    attempts: int = 0
    replays: int = 0  # answers replayed for an Idempotency-Key
    reuse_refused: int = 0  # a key reused with another body, refused
    closed_seen: asyncio.Event = field(default_factory=asyncio.Event)
    fault_done_at: float | None = None
    created_after_fault: int = 0

    def note_created(self, organization_id: int, key: str | None, body: dict) -> None:
        """A 201: kept with its key, the best price seen raised to it."""
        self.created.append((organization_id, key, body))
        self.best = max(self.best, Decimal(body["amount"]))
        if self.fault_done_at is not None:
            self.created_after_fault += 1

    def note_refusal(self, response: httpx.Response) -> None:
        """A refusal that must be one of the bidding refusals (409)."""
        assert response.status_code == 409, response.text
        code = response.json()["code"]
        assert code in REFUSALS, response.text
        self.refused[code] += 1
