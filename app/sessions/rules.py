"""Pure session rules: the lots' schedule, lot statuses, totals and the sell-through rate.

Time is integer epoch milliseconds, money Decimal; no database, Redis or clock here."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

MAX_SLOT_MS = 30 * 24 * 3600 * 1000  # a round lasts at most 30 days (auctions' own limit)


class LotStatus(StrEnum):
    queued = "queued"
    open = "open"
    sold = "sold"
    passed = "passed"
    withdrawn = "withdrawn"


@dataclass(frozen=True, slots=True)
class Slot:
    """When a lot opens and is due to close (before any soft-close extension)."""

    opens_ms: int
    closes_ms: int


def timed_schedule(*, starts_ms: int, duration_ms: int, stagger_ms: int, lots: int) -> list[Slot]:
    """Timed: every lot opens at the start; lot k closes at start + duration + k x stagger."""
    return [Slot(starts_ms, starts_ms + duration_ms + k * stagger_ms) for k in range(lots)]


def live_schedule(*, starts_ms: int, duration_ms: int, gap_ms: int, lots: int) -> list[Slot]:
    """Live: one lot after another; only the first is fixed, the others are the estimate if no
    lot were extended (each opens gap_ms after the one before actually closes)."""
    return [Slot(starts_ms + k * (duration_ms + gap_ms),
                 starts_ms + k * (duration_ms + gap_ms) + duration_ms) for k in range(lots)]


def layout_rounds(slot: Slot, durations_ms: Sequence[int]) -> list[tuple[int, int]]:
    """The rounds of a lot in its slot: the non-final ones (durations_ms) back to back from the
    opening, the final one up to the close; ValueError when they do not fit."""
    rounds, start = [], slot.opens_ms
    for duration in durations_ms:
        rounds.append((start, start + duration))
        start += duration
    if start >= slot.closes_ms:
        raise ValueError("the lot's earlier rounds leave no time for its final round")
    if slot.closes_ms - slot.opens_ms > MAX_SLOT_MS:
        raise ValueError("a lot lasts at most 30 days")
    return [*rounds, (start, slot.closes_ms)]


def hard_close_ms(slot: Slot, max_extension_ms: int | None) -> int | None:
    """The latest a lot may close with extensions: its due close + the maximum extension."""
    return None if max_extension_ms is None else slot.closes_ms + max_extension_ms


def closed_outcome(*, withdrawn: bool, sold: bool) -> LotStatus:
    """A finished lot: withdrawn by the operator, else sold or passed."""
    if withdrawn:
        return LotStatus.withdrawn
    return LotStatus.sold if sold else LotStatus.passed


def lot_status(
    *, cancelled: bool, closed_outcome: str | None, held: bool, live_status: str | None,
    live_round: int = 0, live_final: bool = True, live_outcome: str | None = None,
) -> LotStatus:
    """A lot's status from SQL (cancelled, the finalised outcome, held out of the engine) and,
    while it runs, its round in the engine (scheduled|open|closed, or None: not loaded) and
    the outcome the close script wrote (None until it has run)."""
    if cancelled:
        return LotStatus.withdrawn
    if closed_outcome is not None:
        return LotStatus.sold if closed_outcome == "sold" else LotStatus.passed
    if held or live_status is None or (live_status == "scheduled" and live_round == 0):
        return LotStatus.queued
    # A round past its close reads "closed" before the close script has run, and only that
    # script decides the outcome (the standing bid, a proxy, the reserve): until it has, the
    # lot is still open (closing), never guessed as passed and then shown sold.
    if live_status == "closed" and live_final and live_outcome is not None:
        return closed_outcome_of(live_outcome)
    return LotStatus.open


def closed_outcome_of(outcome: str) -> LotStatus:
    """The lot status of an engine outcome: sold, withdrawn, else (unsold) passed."""
    return closed_outcome(withdrawn=outcome == "withdrawn", sold=outcome == "sold")


def session_status(*, stored: str, now_ms: int, starts_ms: int) -> str:
    """A published session is running from its start until finished (or cancelled)."""
    if stored == "published" and now_ms >= starts_ms:
        return "running"
    return stored


@dataclass(frozen=True, slots=True)
class Totals:
    lots: int
    sold: int
    passed: int
    withdrawn: int
    sell_through_rate: Decimal
    turnover: Decimal


def sell_through_rate(*, sold: int, offered: int) -> Decimal:
    """Sold lots over lots offered (sold + passed; withdrawn lots were not), 4 places."""
    if offered == 0:
        return Decimal("0.0000")
    return (Decimal(sold) / Decimal(offered)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def totals(outcomes: Sequence[tuple[LotStatus, Decimal | None]]) -> Totals:
    """Counts, sell-through rate and turnover (the sum of hammer prices) of the lots."""
    sold = sum(1 for status, _ in outcomes if status is LotStatus.sold)
    passed = sum(1 for status, _ in outcomes if status is LotStatus.passed)
    turnover = sum((price or Decimal(0) for status, price in outcomes if status is LotStatus.sold),
                   Decimal("0.00"))
    return Totals(len(outcomes), sold, passed, len(outcomes) - sold - passed,
                  sell_through_rate(sold=sold, offered=sold + passed), turnover.quantize(Decimal("0.01")))
