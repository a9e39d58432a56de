"""The `rig` fixture of the fault and serving tests (a plugin of tests/conftest.py): a Rig of
real processes per test, always killed afterwards."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import databases
from tests.support.harness import Rig


@pytest.fixture
async def rig(database_url: str, tmp_path: Path) -> AsyncIterator[Rig]:
    """redis-server, API and worker processes of this test's own (kill -9 all of them after);
    the shared test database is emptied afterwards, as the `app` fixture does."""
    processes = Rig(database_url, tmp_path)
    try:
        yield processes
    finally:
        processes.stop()
        await databases.empty_all_tables(database_url)
    assert not processes.leaked(), "a process of the test outlived it"
