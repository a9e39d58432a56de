"""Identity requests and responses."""

from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints, field_validator

from app.identity.models import OrgKind
from app.schemas import MAX_DB_ID, RequestModel, ResponseModel, Timestamp
from app.security import Role

Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class OrganizationCreate(RequestModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    kind: OrgKind


class OrganizationOut(ResponseModel):
    id: int
    name: str
    kind: OrgKind
    created_at: Timestamp


class UserCreate(RequestModel):
    email: Annotated[EmailStr, Field(max_length=254)]
    password: Password
    role: Role
    organization_id: int | None = Field(default=None, strict=True, ge=1, le=MAX_DB_ID)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class UserOut(ResponseModel):
    id: int
    email: str
    role: Role
    organization_id: int | None
    is_active: bool
    created_at: Timestamp


class Token(ResponseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
