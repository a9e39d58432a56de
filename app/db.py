"""Database engine, session factory, declarative base and column types."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, Numeric, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL wants BIGINT for growth.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, on SQLite too (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Exact money with 2 places: NUMERIC(15,2) on PostgreSQL, integer cents on SQLite."""

    impl = Numeric(15, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(15, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value).quantize(Decimal("0.01"))
        return int(value * 100) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))
        return Decimal(value).quantize(Decimal("0.01"))


def utcnow() -> datetime:
    """Now, as an aware UTC datetime truncated to milliseconds (what the API shows)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money()}


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(
    url: str, *, pool_size: int = 10, autocommit: bool = False, pre_ping: bool = True
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout.

    autocommit (PostgreSQL): each statement commits on its own, with no BEGIN/COMMIT round
    trips; on SQLite transactions stay explicit (`conn.begin()`)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=pre_ping, **options
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (responses are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def flush_or_raise(session: AsyncSession, error: Exception) -> None:
    """Flush in a savepoint; a constraint violation (a racing duplicate) raises error instead."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise error from exc


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    """Run action once this session's transaction has committed (e.g. tell Redis)."""
    session.info.setdefault("after_commit", []).append(action)


async def commit(session: AsyncSession) -> None:
    """Commit, then run the after-commit actions in order."""
    await session.commit()
    actions: list[AfterCommit] = session.info.pop("after_commit", [])
    for action in actions:
        await action()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The one place a request commits: once, before the response is sent."""
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
            await commit(session)
        except BaseException:
            session.info.pop("after_commit", None)
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def str_enum(enum: type[StrEnum], name: str) -> Enum:
    """A portable enum column stored as VARCHAR with a CHECK (no native PG type to migrate)."""
    return Enum(
        enum, name=name, native_enum=False, create_constraint=True, length=32,
        values_callable=lambda members: [m.value for m in members],
    )
