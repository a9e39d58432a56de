"""Session, lot, session registration and results requests and responses."""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, PlainSerializer, StringConstraints, WithJsonSchema, model_validator

from app.auctions.models import DepositStatus, RegistrationStatus
from app.auctions.schemas import Rate, RoundKind
from app.schemas import (
    DbId,
    Money,
    MoneyOut,
    RequestModel,
    ResponseModel,
    Timestamp,
    TimestampIn,
    json_int,
)
from app.sessions.models import SessionMode, SessionStatus
from app.sessions.rules import LotStatus

Seconds = json_int(ge=0, le=86400)
RateOut = Annotated[
    Decimal, PlainSerializer(lambda d: f"{d:.4f}", return_type=str),
    WithJsonSchema({"type": "string", "examples": ["0.7500"]}),
]


class SessionAntiSniping(RequestModel):
    window_seconds: json_int(ge=0, le=3600) = 0
    extension_seconds: json_int(ge=0, le=3600) = 0
    max_extension_seconds: Seconds | None = Field(
        default=None, description="a lot closes at the latest its due close plus this")


class SessionCreate(RequestModel):
    """stagger_seconds is for timed sessions, lot_gap_seconds for live ones (null otherwise)."""

    model_config = ConfigDict(json_schema_extra={"allOf": [
        {"if": {"properties": {"mode": {"const": "timed"}}, "required": ["mode"]},
         "then": {"properties": {"lot_gap_seconds": {"type": "null"}}}},
        {"if": {"properties": {"mode": {"const": "live"}}, "required": ["mode"]},
         "then": {"properties": {"stagger_seconds": {"type": "null"}}}},
    ]})

    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    mode: SessionMode = Field(description="timed: all lots open together, closing by the stagger;"
                                          " live: one lot at a time")
    starts_at: TimestampIn
    lot_duration_seconds: json_int(ge=1, le=7 * 86400)
    stagger_seconds: Seconds | None = Field(default=None, description="timed only; default 60")
    lot_gap_seconds: Seconds | None = Field(default=None, description="live only; default 30")
    deposit_amount: Money
    bid_increment: Money
    anti_sniping: SessionAntiSniping = SessionAntiSniping()
    buyer_premium_rate: Rate = Decimal("0")
    seller_commission_rate: Rate = Decimal("0")
    payment_days: json_int(ge=1, le=365) = 30
    registration_closes_at: TimestampIn | None = None

    @model_validator(mode="after")
    def _mode_settings(self) -> "SessionCreate":
        if self.mode is SessionMode.timed and self.lot_gap_seconds is not None:
            raise ValueError("lot_gap_seconds is for live sessions")
        if self.mode is SessionMode.live and self.stagger_seconds is not None:
            raise ValueError("stagger_seconds is for timed sessions")
        if self.mode is SessionMode.timed and self.stagger_seconds is None:
            self.stagger_seconds = 60
        if self.mode is SessionMode.live and self.lot_gap_seconds is None:
            self.lot_gap_seconds = 30
        return self


class LotRoundIn(RequestModel):
    """A round of a lot: the non-final ones last duration_seconds, back to back from the
    lot's opening; the final one runs until the lot's close."""

    kind: RoundKind
    duration_seconds: json_int(ge=1, le=7 * 86400) | None = None
    step: Money | None = None
    interval_seconds: json_int(ge=1, le=86400) | None = None
    interval_ms: json_int(ge=1, le=86_400_000) | None = None
    floor: Money | None = None
    advance: json_int(ge=1, le=1000) | None = None


class LotCreate(RequestModel):
    listing_id: DbId
    lot_number: json_int(ge=1, le=9999) | None = None
    starting_price: Money | None = Field(default=None, description="default: the listing's")
    bid_increment: Money | None = Field(default=None, description="default: the session's")
    rounds: Annotated[list[LotRoundIn] | None, Field(min_length=1, max_length=5)] = Field(
        default=None, description="default: one english round")

    @model_validator(mode="after")
    def _durations(self) -> "LotCreate":
        rounds = self.rounds or []
        if any(r.duration_seconds is None for r in rounds[:-1]):
            raise ValueError("every round but the last needs duration_seconds")
        if rounds and rounds[-1].duration_seconds is not None:
            raise ValueError("the last round runs until the lot closes: no duration_seconds")
        return self


class SessionAntiSnipingOut(ResponseModel):
    window_seconds: int
    extension_seconds: int
    max_extension_seconds: int | None


class LotOut(ResponseModel):
    """A lot with its live state; current_price and bid_count stay hidden in sealed rounds."""

    lot_number: int
    auction_id: int
    listing_id: int
    title: str
    starting_price: Money
    bid_increment: Money
    status: LotStatus
    opens_at: Timestamp | None = Field(description="null: a live lot waiting for its turn")
    ends_at: Timestamp | None
    current_price: Money | None
    bid_count: int | None
    hammer_price: Money | None


class SessionOut(ResponseModel):
    id: int
    title: str
    description: str | None
    mode: SessionMode
    status: SessionStatus
    starts_at: Timestamp
    lot_duration_seconds: int
    stagger_seconds: int | None
    lot_gap_seconds: int | None
    deposit_amount: Money
    bid_increment: Money
    anti_sniping: SessionAntiSnipingOut
    buyer_premium_rate: Rate
    seller_commission_rate: Rate
    payment_days: int
    registration_closes_at: Timestamp | None
    published_at: Timestamp | None
    finished_at: Timestamp | None
    paused_at: Timestamp | None = Field(default=None, description="while paused: since when")
    created_at: Timestamp
    lots: list[LotOut] | None = Field(default=None, description="in GET /sessions/{id} only")
    server_time: Timestamp | None = None


class SessionRegistrationOut(ResponseModel):
    id: int
    session_id: int
    organization_id: int
    status: RegistrationStatus
    paddle: str | None
    deposit_reference: str | None
    deposit_status: DepositStatus | None
    created_at: Timestamp
    qualified_at: Timestamp | None


class ResultLot(ResponseModel):
    lot_number: int
    auction_id: int
    title: str
    outcome: Literal["sold", "passed", "withdrawn"]
    hammer_price: Money | None
    winning_paddle: str | None


class ResultTotals(ResponseModel):
    lots: int
    sold: int
    passed: int
    withdrawn: int
    sell_through_rate: RateOut = Field(description="sold / (sold + passed), 4 places")
    turnover: MoneyOut = Field(description="the sum of the hammer prices")


class SessionResults(ResponseModel):
    """The results notice of a finished (or cancelled) session."""

    session_id: int
    title: str
    status: SessionStatus
    lots: list[ResultLot]
    totals: ResultTotals


class WithdrawIn(RequestModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class WithdrawalOut(ResponseModel):
    """A withdrawn lot: closed without a sale, its deposits released as for an unsold lot."""

    auction_id: int
    session_id: int | None
    lot_number: int | None
    status: Literal["withdrawn"] = "withdrawn"
    reason: str
    closed_at: Timestamp
