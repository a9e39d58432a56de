"""Organisations and their users."""

from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin
from app.security import Role


class OrgKind(StrEnum):
    institute = "institute"
    enterprise = "enterprise"
    auditor = "auditor"


# Which kind of organisation each role belongs to; admins belong to none (the operator).
ROLE_ORG_KIND: dict[Role, OrgKind | None] = {
    Role.admin: None,
    Role.institute: OrgKind.institute,
    Role.enterprise: OrgKind.enterprise,
    Role.auditor: OrgKind.auditor,
}


def str_enum(enum: type[StrEnum], name: str) -> Enum:
    """A portable enum column stored as VARCHAR with a CHECK (no native PG type to migrate)."""
    return Enum(
        enum, name=name, native_enum=False, create_constraint=True, length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind, "org_kind"))


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
