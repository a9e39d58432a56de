"""Identity requests and responses."""

from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints, field_validator, model_validator
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from app.identity.models import OrgKind
from app.identity.passwords import Password, SignInPassword
from app.schemas import MAX_DB_ID, RequestModel, ResponseModel, Timestamp
from app.security import Role

OrganizationName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Email = Annotated[EmailStr, Field(max_length=254)]


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
    email: Email
    password: Password
    role: Role
    organization_id: int | None = Field(default=None, strict=True, ge=1, le=MAX_DB_ID)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class UserUpdate(RequestModel):
    """Fields to change; absent fields stay. organization_id null: no organisation (admins)."""

    role: Role | None = None
    organization_id: int | None = Field(default=None, strict=True, ge=1, le=MAX_DB_ID)
    is_active: bool | None = Field(default=None, strict=True)

    @model_validator(mode="after")
    def _no_nulls_but_organization(self) -> "UserUpdate":
        for name in self.model_fields_set - {"organization_id"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


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
