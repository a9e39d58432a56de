"""The auction tests' Redis Cluster: one per session, for the engine's Lua tests and for the app
on a cluster alike."""

from collections.abc import Iterator

import pytest

from tests.support.cluster import LocalCluster, binaries


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A 3-master Redis Cluster started for this session; yields its seed URL."""
    if binaries() is None:
        pytest.skip("redis-server/redis-cli not installed: no cluster tests")
    local = LocalCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield local.start()
    finally:
        local.stop()
