"""Organisations and their users."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, str_enum
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


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind, "org_kind"))
    # The unified social credit code (统一社会信用代码), 18 characters, checksum-valid.
    registration_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    # Null until admin verifies a self-signed-up organisation; set at once for admin-made ones.
    verified_at: Mapped[datetime | None]

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    # Carried in every access token (claim `ver`); incremented to revoke them (app/revocation.py).
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # the language of the notifications he receives: zh (zh-CN) or en
    language: Mapped[str] = mapped_column(String(8), default="zh", server_default="zh")
