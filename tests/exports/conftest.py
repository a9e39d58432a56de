"""Settlements made in bulk with SQL (with the organisations, lots, auctions and registrations
they need) and an auditor."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from app.security import Role
from bench.export import Seeded, seed
from tests.exports.support import ROWS, START, STEP_MS, TRICKY_BUYER, TRICKY_TITLE


@pytest.fixture
async def seeded(app) -> AsyncIterator[Seeded]:
    """ROWS settlements, one with a title and one with a buyer that need CSV quoting."""
    async with app.state.db_engine.begin() as conn:
        made = await seed(conn, ROWS, start=START, step_ms=STEP_MS)
        await conn.execute(text(
            "UPDATE listings SET title = :t WHERE id = (SELECT listing_id FROM settlements WHERE id = :s)"
        ), {"t": TRICKY_TITLE, "s": made.first_id + 2})
        await conn.execute(text("UPDATE organizations SET name = :n WHERE id = :o"),
                           {"n": TRICKY_BUYER, "o": made.buyer_ids[0]})
    yield made
    await unlink_second_chances(app)


async def unlink_second_chances(app) -> None:
    """SQLite enforces ON DELETE RESTRICT row by row, so the suite's table wipe could not
    delete a first settlement before its second chance: unlink them first."""
    async with app.state.db_engine.begin() as conn:
        await conn.execute(text("UPDATE settlements SET second_chance_of_id = NULL"))


@pytest.fixture
async def auditor(actors):
    return await actors.user(Role.auditor)
