"""Pure settlement rules: the money, the status machine and the bid trail digest (no I/O).

Money is ``Decimal`` with two places; rates are ``Decimal`` fractions (``0.0500`` = 5 %).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

from app.auctions.models import DepositStatus
from app.money import to_cent
from app.settlements.models import SettlementStatus

EMPTY_TRAIL_SHA256: Final = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True, slots=True)
class Terms:
    """What a buyer owes and the institute pays, for one hammer price."""

    hammer_price: Decimal
    buyer_premium: Decimal
    seller_commission: Decimal
    deposit_applied: Decimal
    amount_due: Decimal
    due_date: date


def compute_terms(
    *, hammer_price: Decimal, buyer_premium_rate: Decimal, seller_commission_rate: Decimal,
    deposit: Decimal, as_of: date, payment_days: int,
) -> Terms:
    """The settlement's money and due date.

    buyer_premium = hammer x rate and seller_commission = hammer x rate, each rounded to
    the cent (ROUND_HALF_UP); deposit_applied = the buyer's deposit, but never more than
    hammer + premium (an excess is refunded, so amount_due is never negative);
    amount_due = hammer + buyer_premium - deposit_applied; due_date = as_of (the close date
    in UTC, or the default date for a second chance) + payment_days.
    """
    if hammer_price <= 0 or deposit < 0 or payment_days < 0:
        raise ValueError("hammer_price must be positive, deposit and payment_days not negative")
    for rate in (buyer_premium_rate, seller_commission_rate):
        if not 0 <= rate <= 1:
            raise ValueError("rates are fractions between 0 and 1")
    hammer = to_cent(hammer_price)
    premium = to_cent(hammer * buyer_premium_rate)
    commission = to_cent(hammer * seller_commission_rate)
    applied = min(to_cent(deposit), hammer + premium)
    return Terms(
        hammer_price=hammer, buyer_premium=premium, seller_commission=commission,
        deposit_applied=applied, amount_due=hammer + premium - applied,
        due_date=as_of + timedelta(days=payment_days),
    )


def utc_date(moment: datetime) -> date:
    """The calendar date of an aware moment in UTC."""
    return moment.astimezone(UTC).date()


class Action(StrEnum):
    confirm_payment = "confirm_payment"
    complete = "complete"
    default = "default"


# pending_payment -> paid -> completed, pending_payment -> defaulted; nothing else.
TRANSITIONS: Final[dict[tuple[Action, SettlementStatus], SettlementStatus]] = {
    (Action.confirm_payment, SettlementStatus.pending_payment): SettlementStatus.paid,
    (Action.complete, SettlementStatus.paid): SettlementStatus.completed,
    (Action.default, SettlementStatus.pending_payment): SettlementStatus.defaulted,
}
FINAL_STATUSES: Final = frozenset({SettlementStatus.completed, SettlementStatus.defaulted})


def next_status(action: Action, current: SettlementStatus) -> SettlementStatus | None:
    """The status the action leads to from current, or None when it is not allowed."""
    return TRANSITIONS.get((action, current))


# held -> applied (winner) | released (the others); applied -> forfeited (winner defaults);
# released -> applied (the runner-up takes a second chance).
DEPOSIT_TRANSITIONS: Final[frozenset[tuple[DepositStatus, DepositStatus]]] = frozenset({
    (DepositStatus.held, DepositStatus.applied),
    (DepositStatus.held, DepositStatus.released),
    (DepositStatus.applied, DepositStatus.forfeited),
    (DepositStatus.released, DepositStatus.applied),
})


def deposit_may_move(current: DepositStatus | None, target: DepositStatus) -> bool:
    """Whether a registration's deposit may go from current to target."""
    return current is not None and (current, target) in DEPOSIT_TRANSITIONS


@dataclass(frozen=True, slots=True)
class Candidate:
    """One bidder's best bid, as a possible second-chance buyer."""

    organization_id: int
    amount: Decimal
    sequence: int


def runner_up(
    candidates: Iterable[Candidate], *, exclude_organization_id: int, reserve: Decimal | None
) -> Candidate | None:
    """The best bid of another bidder that meets the reserve (ties: the earlier bid)."""
    eligible = [
        c for c in candidates
        if c.organization_id != exclude_organization_id and (reserve is None or c.amount >= reserve)
    ]
    return min(eligible, key=lambda c: (-c.amount, c.sequence), default=None)


def trail_line(
    *, sequence: int, round_index: int, paddle: str, amount: Decimal, placed_at: datetime
) -> str:
    """One bid's canonical line in the trail digest (see TrailDigest)."""
    stamp = placed_at.astimezone(UTC)
    millis = f"{stamp.microsecond // 1000:03d}"
    return (
        f"{sequence}|{round_index}|{paddle}|{to_cent(amount):f}|"
        f"{stamp:%Y-%m-%dT%H:%M:%S}.{millis}Z\n"
    )


class TrailDigest:
    """SHA-256 of an auction's bid trail, fed one bid at a time in ascending sequence.

    Auditors recompute it from ``GET /auctions/{id}/bids``: sort the bids by ``sequence``
    and hash the UTF-8 concatenation of one line per bid,

        ``{sequence}|{round_index}|{paddle}|{amount}|{placed_at}\\n``

    with amount as the API shows it (two decimals, no exponent, e.g. ``2010000.00``) and
    placed_at as the API shows it (UTC, milliseconds, ``Z``, e.g.
    ``2026-11-28T10:00:00.123Z``). Every line ends with a newline; an auction without
    bids hashes the empty string (``e3b0c442...b855``). The hex digest is lowercase.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0
        self._last_sequence = 0

    def add(
        self, *, sequence: int, round_index: int, paddle: str, amount: Decimal, placed_at: datetime
    ) -> None:
        """Add the next bid; sequences must ascend strictly."""
        if sequence <= self._last_sequence:
            raise ValueError("bids must be added in strictly ascending sequence")
        self._last_sequence = sequence
        self.update_raw(trail_line(
            sequence=sequence, round_index=round_index, paddle=paddle, amount=amount,
            placed_at=placed_at,
        ))

    def update_raw(self, lines: str, *, count: int = 1) -> None:
        """Add count already canonical lines, in order (for lines built by the database)."""
        self._hash.update(lines.encode())
        self.count += count

    def hexdigest(self) -> str:
        """The lowercase hex SHA-256 of the lines added so far."""
        return self._hash.hexdigest()
