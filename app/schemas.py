"""Shared API types: money, timestamps, pages, strict request models."""

import base64
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Body, Path
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
# exactly the amounts parse_money takes: positive, at most 2 places, at most 1e12, no
# leading zeros; stated in the API document
MONEY_PATTERN = (
    r"^([1-9][0-9]{0,11}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?)|1000000000000(\.0{1,2})?)$"
)
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
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["2480000.00"]},
                   mode="validation"),
    # answers also hold amounts of zero (a premium at rate 0, no deposit applied)
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,13}\.[0-9]{2}$",
                    "examples": ["2480000.00"]}, mode="serialization"),
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


# The instants a request may name: ISO 8601 with a zone, and only that (pydantic alone would
# also take 0.5 as a Unix time), years 1971-9997 so that every offset keeps the instant in
# UTC's range: nothing here is older than the epoch, and a round near year 9999 could not be
# extended. The pattern is in the API document, so what the server refuses is stated there.
TIMESTAMP_PATTERN = (
    r"^(19[7-9][1-9]|19[89]0|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-7])"
    r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_TIMESTAMP_RE = re.compile(TIMESTAMP_PATTERN)
MIN_INSTANT = EPOCH
MAX_INSTANT = datetime(9999, 1, 1, tzinfo=UTC)


def _iso_only(value: Any) -> Any:
    """Strings must be ISO 8601 timestamps with a zone; numbers are no timestamps here."""
    if isinstance(value, datetime):  # set in code, not parsed from a request
        return value
    if not isinstance(value, str) or not _TIMESTAMP_RE.match(value):
        raise ValueError(
            "timestamps are ISO 8601 with a time zone, e.g. 2026-05-01T09:00:00.000Z")
    return value


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
# bodies and query strings
TimestampIn = Annotated[
    datetime, BeforeValidator(_iso_only), AfterValidator(_aware),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN,
                    "examples": ["2026-05-01T09:00:00.000Z"]}),
]


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


class EmptyBody(RequestModel):
    """An action that takes no input: send no body, or {}; any field is refused (422)."""


# The request body of every POST that takes none: documented, and refused when not empty.
NoBody = Annotated[EmptyBody | None, Body(description="none: send no body, or {}")]


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a collection; next_cursor is null on the last page."""

    items: list[T]
    next_cursor: str | None



# A cursor is the last row id as 8 big-endian bytes in unpadded base64url: opaque, and its
# every valid form is stated by a pattern (the top bit clear, the unused low bits zero), so
# no id past 64 bits can reach the database.
CURSOR_PATTERN = r"^[A-Za-f][A-Za-z0-9_-]{9}[AEIMQUYcgkosw048]$"
_CURSOR_RE = re.compile(CURSOR_PATTERN)


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for the row after which the next page starts."""
    return base64.urlsafe_b64encode(last_id.to_bytes(8, "big")).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The row id in a cursor; ValueError when it was not made by encode_cursor."""
    if cursor is None:
        return None
    if not _CURSOR_RE.match(cursor):
        raise ValueError("invalid cursor")
    return int.from_bytes(base64.urlsafe_b64decode(cursor + "="), "big")


def _json_integer(value: Any) -> Any:
    """A JSON integer: 7 or 7.0 (JSON Schema's integer), never true or "7"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a JSON integer")
        return int(value)
    return value


def json_int(*, ge: int, le: int) -> Any:
    """An integer in a request body, as JSON Schema's "integer" means it, from ge to le (the
    bounds go before the validator, so that the API document states them)."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_json_integer)]


# Ids, 1 to 2**53 - 1: every JSON client reads them exactly (a JavaScript number holds no
# integer beyond), and a schema's maximum compares alike as an integer and as a double.
MAX_DB_ID = 2**53 - 1
DbId = json_int(ge=1, le=MAX_DB_ID)  # in bodies: "7" is no id
IdPath = Annotated[int, Path(ge=1, le=MAX_DB_ID)]


def unchanged() -> None:
    """The default of a PATCH field that may be absent but not null: a factory, not a default,
    so the API document shows no "default": null for it."""
    return None
