"""Settlement tests: undo second-chance links before the shared teardown empties the tables.

SQLite enforces settlements.second_chance_of_id (ON DELETE RESTRICT) row by row, so the
plain ``DELETE FROM settlements`` of tests/support/databases.empty_all_tables fails once a
second chance exists; PostgreSQL's TRUNCATE ... CASCADE does not mind.
"""

import pytest
from sqlalchemy import update

from app.settlements.models import Settlement


@pytest.fixture
async def app(app):
    """The shared app fixture, with the second-chance links cut before it empties the tables."""
    yield app
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(Settlement).values(second_chance_of_id=None))
