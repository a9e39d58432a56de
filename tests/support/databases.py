"""Throw-away databases for tests: a fresh PostgreSQL database or SQLite file, migrated."""

import asyncio
import os
import uuid
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.audit.ledger import GENESIS_HASH
from app.db import create_engine
from app.models import Base
from app.settings import Settings


def configured_database_url() -> str | None:
    """The PostgreSQL URL CI points the suite at, normalised to the async driver."""
    raw = os.environ.get("TECHAUCTION_DATABASE_URL")
    return Settings(database_url=raw).database_url if raw else None


async def _admin_execute(server_url: str, statement: str) -> None:
    admin = make_url(server_url).set(database="postgres")
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def create_database(tmp_dir: Path) -> str:
    """A new empty database: on the configured PostgreSQL server, else a SQLite file."""
    server = configured_database_url()
    if server is None:
        return f"sqlite+aiosqlite:///{tmp_dir / f'test-{uuid.uuid4().hex[:8]}.db'}"
    name = f"techauction_test_{uuid.uuid4().hex[:12]}"
    await _admin_execute(server, f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    """Drop a database made by create_database (SQLite files go with their temp dir)."""
    if url.startswith("sqlite"):
        return
    name = make_url(url).database
    await _admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def migrate(url: str) -> None:
    """Alembic upgrade to head, off the event loop (Alembic runs its own loop)."""
    from app import migrate as migrations

    await asyncio.to_thread(migrations.upgrade, url)


async def empty_all_tables(url: str) -> None:
    """Remove every row (children first) and reset identities, keeping the schema."""
    engine = create_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    try:
        async with engine.begin() as conn:
            # A second-chance settlement points at the first: unlink before deleting (SQLite
            # checks ON DELETE RESTRICT row by row).
            await conn.execute(text("UPDATE settlements SET second_chance_of_id = NULL"))
            if url.startswith("sqlite"):
                for name in tables:
                    await conn.execute(text(f'DELETE FROM "{name}"'))
            else:
                joined = ", ".join(f'"{n}"' for n in tables)
                await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
            # The ledger starts from its genesis head, as the migration leaves it.
            await conn.execute(
                text("INSERT INTO audit_ledger_head (id, sequence, hash) VALUES (1, 0, :h)"),
                {"h": GENESIS_HASH},
            )
    finally:
        await engine.dispose()
