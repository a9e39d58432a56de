"""Shared API types: money, timestamps, pages, strict request models."""

import base64
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)

MAX_MONEY = Decimal("1000000000000.00")
MONEY_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
_MONEY_RE = re.compile(MONEY_PATTERN)


def parse_money(value: Any) -> Decimal:
    """A positive amount with at most 2 places, at most 1e12, given as a decimal string."""
    if isinstance(value, Decimal):
        value = format(value, "f")
    if not isinstance(value, str):
        raise ValueError('money must be a decimal string such as "2480000.00"')
    if len(value) > 20 or not _MONEY_RE.match(value):
        raise ValueError("money must be digits with at most 2 decimal places")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError("money must be a decimal string") from exc
    if amount <= 0:
        raise ValueError("money must be positive")
    if amount > MAX_MONEY:
        raise ValueError("money must be at most 1000000000000.00")
    return amount.quantize(Decimal("0.01"))


def format_money(value: Decimal) -> str:
    """Two places, no exponent."""
    return f"{value.quantize(Decimal('0.01')):f}"


Money = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    PlainSerializer(format_money, return_type=str),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["2480000.00"]}),
]

# In responses only: an amount that may be zero (a deposit not applied, a turnover of nothing).
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(format_money, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,13}\.[0-9]{2}$", "examples": ["0.00"]}),
]


def format_timestamp(value: datetime) -> str:
    """UTC ISO 8601 with milliseconds and Z."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_to_datetime(ms: int) -> datetime:
    """Epoch milliseconds (the engine's clock) as an aware UTC datetime."""
    return EPOCH + timedelta(milliseconds=ms)


def datetime_to_ms(value: datetime) -> int:
    """An aware datetime as epoch milliseconds (sub-millisecond part dropped)."""
    return (value - EPOCH) // timedelta(milliseconds=1)


# The instants a request may name: datetime cannot hold 0001-01-01T00:00+01:00 in UTC, and
# a round near year 9999 could not be extended; nothing here is older than the epoch.
MIN_INSTANT = EPOCH
MAX_INSTANT = datetime(9999, 1, 1, tzinfo=UTC)


def _aware(value: Any) -> Any:
    """An aware datetime in range, as UTC; naive or out-of-range instants are refused."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a time zone (use Z for UTC)")
    try:
        value = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("timestamp out of range") from exc
    if not MIN_INSTANT <= value < MAX_INSTANT:
        raise ValueError("timestamps must lie between 1970-01-01 and 9999-01-01 (UTC)")
    return value


Timestamp = Annotated[
    datetime,
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
TimestampIn = Annotated[datetime, AfterValidator(_aware)]  # bodies and query strings


# Text no column can store: NUL (PostgreSQL text refuses it) and lone UTF-16 surrogates,
# which JSON can escape ("\ud800") but UTF-8 cannot encode.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
TEXT_PATTERN = r"^[^\x00]*$"  # query strings: percent-decoding never yields a surrogate


def storable_text(value: str) -> str:
    if _UNSTORABLE_RE.search(value):
        raise ValueError("text must not contain NUL characters or lone surrogates")
    return value


class RequestModel(BaseModel):
    """Request bodies refuse unknown fields and text no database can store."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else (value,):
            if isinstance(item, str):
                storable_text(item)
        return value


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a collection; next_cursor is null on the last page."""

    items: list[T]
    next_cursor: str | None


Limit = Annotated[int, Field(ge=1, le=1000)]


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for the row after which the next page starts."""
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The row id in a cursor; ValueError when it was not made by encode_cursor."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "id" or not value.isdigit() or len(value) > 19:
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("invalid cursor") from exc


MAX_DB_ID = 2**63 - 1
DbId = Annotated[int, Field(strict=True, ge=1, le=MAX_DB_ID)]  # in bodies: "7" is no id
IdPath = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
