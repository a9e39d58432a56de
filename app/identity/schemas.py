"""Identity requests and responses."""

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from app.identity.models import OrgKind
from app.identity.passwords import Password, SignInPassword
from app.schemas import MAX_DB_ID, DbId, RequestModel, ResponseModel, Timestamp, unchanged
from app.security import Role

OrganizationName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# An address as mail systems take it, stated as a pattern so the API document says exactly
# what is accepted: dot-atoms at both sides of the @, a domain of DNS labels ending in a
# letters-only top-level label.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL_PATTERN = (
    rf"^{_ATOM}(\.{_ATOM})*@([A-Za-z0-9]([A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}}$"
)
Email = Annotated[str, StringConstraints(min_length=6, max_length=254, pattern=EMAIL_PATTERN)]


def _registration_code(value: str) -> str:
    """A unified social credit code with a valid checksum, in its compact form."""
    try:
        return uscc.validate(value)
    except StdnumError as exc:
        raise ValueError(
            "not a valid unified social credit code (18 characters with a valid check character)"
        ) from exc


RegistrationCode = Annotated[
    str, StringConstraints(min_length=18, max_length=40), AfterValidator(_registration_code),
    Field(examples=["91310000775785552L"]),
]


class OrganizationCreate(RequestModel):
    name: OrganizationName
    kind: OrgKind
    registration_code: RegistrationCode | None = None


class OrganizationOut(ResponseModel):
    id: int
    name: str
    kind: OrgKind
    registration_code: str | None
    verified: bool
    verified_at: Timestamp | None
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


class UserUpdate(RequestModel):
    """Fields to change; absent fields stay. organization_id null: no organisation (admins)."""

    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"role": {"const": "admin"}}, "required": ["role"]},
        "then": {"properties": {"organization_id": {"type": "null"}}},
        "else": {"if": {"required": ["role"]},
                 "then": {"properties": {"organization_id": {"type": "integer"}}}},
    })

    role: Role = Field(default_factory=unchanged)
    organization_id: int | None = Field(default=None, strict=True, ge=1, le=MAX_DB_ID)
    is_active: bool = Field(default_factory=unchanged, strict=True)


class PasswordChange(RequestModel):
    current_password: SignInPassword
    new_password: Password


class SignupRequest(RequestModel):
    """An enterprise applies: its name and registration code, and its first user."""

    organization_name: OrganizationName
    registration_code: RegistrationCode
    email: Email
    password: Password

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


class SignupOut(ResponseModel):
    organization: OrganizationOut
    user: UserOut


class Token(ResponseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
