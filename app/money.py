"""Money, in one place: Decimal with two places in the API and SQL, integer minor units (cents)
in Redis and the pure rules. Never float."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

CENT: Final = Decimal("0.01")


def to_minor(amount: Decimal) -> int:
    """Decimal money as integer minor units (what Redis holds)."""
    return int((amount / CENT).to_integral_value())


def from_minor(units: int) -> Decimal:
    """Integer minor units as Decimal money."""
    return (Decimal(units) * CENT).quantize(CENT)


def to_cent(amount: Decimal) -> Decimal:
    """Round to the cent, halves away from zero (ROUND_HALF_UP)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
