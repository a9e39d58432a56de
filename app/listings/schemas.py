"""Listing requests and responses."""

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from app.listings.models import IpType, ListingStatus, TransferMode
from app.schemas import Money, RequestModel, ResponseModel, Timestamp, json_int, unchanged

Title = Annotated[str, StringConstraints(min_length=3, max_length=200)]
Summary = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
FieldSlug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
PatentNumber = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9./ -]+$")]
PatentNumbers = Annotated[list[PatentNumber], Field(max_length=100)]
# Strict: a JSON true or "7" is not a TRL.
Trl = json_int(ge=1, le=9)
Currency = Annotated[str, StringConstraints(pattern=r"^CNY$")]


def _reserve_not_below_start(starting, reserve) -> None:
    if starting is not None and reserve is not None and reserve < starting:
        raise ValueError("reserve_price must not be below starting_price")


class ListingCreate(RequestModel):
    title: Title
    summary: Summary
    field: FieldSlug
    ip_type: IpType
    patent_numbers: PatentNumbers = []
    trl: Trl
    transfer_mode: TransferMode
    starting_price: Money
    reserve_price: Money | None = None
    currency: Currency = "CNY"

    @model_validator(mode="after")
    def _prices(self) -> "ListingCreate":
        _reserve_not_below_start(self.starting_price, self.reserve_price)
        return self


class ListingUpdate(RequestModel):
    """Fields to change: absent fields stay; none may be null but reserve_price, whose null
    removes the reserve."""

    title: Title = Field(default_factory=unchanged)
    summary: Summary = Field(default_factory=unchanged)
    field: FieldSlug = Field(default_factory=unchanged)
    ip_type: IpType = Field(default_factory=unchanged)
    patent_numbers: PatentNumbers = Field(default_factory=unchanged)
    trl: Trl = Field(default_factory=unchanged)
    transfer_mode: TransferMode = Field(default_factory=unchanged)
    starting_price: Money = Field(default_factory=unchanged)
    reserve_price: Money | None = None
    currency: Currency = Field(default_factory=unchanged)


class RejectRequest(RequestModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class ListingOut(ResponseModel):
    """A listing; reserve_price is shown only to its institute, admin and auditor (else null)."""

    id: int
    organization_id: int
    title: str
    summary: str
    field: str
    ip_type: IpType
    patent_numbers: list[str]
    trl: int
    transfer_mode: TransferMode
    starting_price: Money
    reserve_price: Money | None
    currency: str
    status: ListingStatus
    rejection_reason: str | None
    created_at: Timestamp
    updated_at: Timestamp
    submitted_at: Timestamp | None
    reviewed_at: Timestamp | None
