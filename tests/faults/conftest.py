"""Fixtures of the fault tests: a Rig of real processes per test, always killed afterwards."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import Rig


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    """redis-server, API and worker processes of this test's own (kill -9 all of them after)."""
    processes = Rig(database_url, tmp_path)
    try:
        yield processes
    finally:
        processes.stop()
    assert not processes.leaked(), "a process of the test outlived it"
