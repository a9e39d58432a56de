"""Alembic makes the schema: up, down and up again on the configured database, and the
models never drift from the migrations."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from app import migrate as migrations
from app.db import create_engine
from app.models import Base
from tests.support import databases


@pytest.fixture
async def empty_database(tmp_path):
    url = await databases.create_database(tmp_path)
    yield url
    await databases.drop_database(url)


async def _table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _schema_diff(url: str) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(empty_database):
    url = empty_database
    expected = set(Base.metadata.tables)
    await asyncio.to_thread(migrations.upgrade, url)
    assert expected <= await _table_names(url)
    await asyncio.to_thread(migrations.downgrade, url, "base")
    assert await _table_names(url) <= {"alembic_version"}
    await asyncio.to_thread(migrations.upgrade, url)
    assert expected <= await _table_names(url)


async def test_models_match_migrations(empty_database):
    await asyncio.to_thread(migrations.upgrade, empty_database)
    diff = await _schema_diff(empty_database)
    assert diff == [], f"models and migrations disagree; add a revision: {diff}"


async def test_drift_is_detected(empty_database):
    """The drift check can fail: a migration short of a table is reported."""
    await asyncio.to_thread(migrations.upgrade, empty_database)
    engine = create_engine(empty_database)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP TABLE bids")
    await engine.dispose()
    diff = await _schema_diff(empty_database)
    assert any(change[0] == "add_table" and change[1].name == "bids" for change in diff)
