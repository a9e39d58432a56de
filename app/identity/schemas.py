"""Identity requests and responses."""

from typing import Annotated

from pydantic import ConfigDict, StringConstraints, field_validator

from app.identity.models import OrgKind
from app.schemas import DbId, RequestModel, ResponseModel, Timestamp
from app.security import Role

# An address as mail systems take it, stated as a pattern so the API document says exactly
# what is accepted: dot-atoms at both sides of the @, a domain of DNS labels ending in a
# letters-only top-level label.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL_PATTERN = (
    rf"^{_ATOM}(\.{_ATOM})*@([A-Za-z0-9]([A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}}$"
)
Email = Annotated[str, StringConstraints(min_length=6, max_length=254, pattern=EMAIL_PATTERN)]
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
    """An admin belongs to no organisation (organization_id absent or null); every other
    role needs one of its kind (institute, enterprise, auditor)."""

    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"role": {"const": "admin"}}, "required": ["role"]},
        "then": {"properties": {"organization_id": {"type": "null"}}},
        "else": {"required": ["organization_id"],
                 "properties": {"organization_id": {"type": "integer"}}},
    })

    email: Email
    password: Password
    role: Role
    organization_id: DbId | None = None

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
