"""The stack under test: a throw-away PostgreSQL database, a Redis key prefix, the served app."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import redis
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def techauction_command() -> list[str]:
    """The installed `techauction` script beside this interpreter (or python -m app.cli)."""
    script = Path(sys.executable).with_name("techauction")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def plain_url(url: str, *, database: str | None = None) -> str:
    """A postgresql:// URL (asyncpg's DSN form), optionally for another database."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@dataclass
class Stack:
    """Everything the bench creates, so that close() can remove all of it."""

    pg_server: str = DEFAULT_PG
    redis_url: str = DEFAULT_REDIS
    workers: int = 2
    token: str = field(default_factory=lambda: secrets.token_hex(4))
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    port: int = 0
    database_url: str = ""
    process: subprocess.Popen[bytes] | None = None
    tmp: Path | None = None
    _db_created: bool = False

    @property
    def db_name(self) -> str:
        return f"techauction_bench_{self.token}"

    @property
    def admin_url(self) -> str:
        return plain_url(self.pg_server, database="postgres")

    @property
    def prefix(self) -> str:
        return f"bench-{self.token}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The service's environment: test env (cheap argon2), no closer."""
        assert self.tmp is not None
        env = dict(os.environ)
        env.update(
            TECHAUCTION_ENV="test",
            TECHAUCTION_DATABASE_URL=self.database_url,
            TECHAUCTION_REDIS_URL=self.redis_url,
            TECHAUCTION_REDIS_CLUSTER="false",
            TECHAUCTION_REDIS_PREFIX=self.prefix,
            TECHAUCTION_CLOSER_IN_API="false",
            TECHAUCTION_JWT_SECRET=self.jwt_secret,
            TECHAUCTION_METRICS_TOKEN=self.metrics_token,
            TECHAUCTION_ACCESS_TOKEN_MINUTES="720",
            TECHAUCTION_VAR_DIR=str(self.tmp / "var"),
        )
        return env

    # -- database --------------------------------------------------------------------
    def create_database(self) -> None:
        execute(self.admin_url, f'CREATE DATABASE "{self.db_name}"')
        self._db_created = True
        self.database_url = plain_url(self.pg_server, database=self.db_name)

    # -- service ---------------------------------------------------------------------
    def start(self, log) -> None:
        """Create the database, migrate, and serve the bench's app with N uvicorn workers."""
        self.tmp = Path(tempfile.mkdtemp(prefix="techauction-bench-"))
        self.create_database()
        log(f"database {self.db_name}, Redis prefix {self.prefix}")
        self.run_cli("migrate")
        self.port = free_port()
        with (self.tmp / "server.log").open("wb") as server_log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.serve", "--no-access-log", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env(), cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited:\n{self.server_log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    log(f"service up on {self.base_url} with {self.workers} workers")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the service did not become ready:\n{self.server_log_tail()}")

    def server_log_tail(self, lines: int = 30) -> str:
        path = self.tmp / "server.log" if self.tmp else None
        if path is None or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def server_pids(self) -> list[int]:
        """The uvicorn supervisor and its worker processes."""
        if self.process is None:
            return []
        pids = [self.process.pid]
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids += [int(p) for p in children.read_text().split()]
        except OSError:
            pass
        return pids

    def run_cli(self, *args: str) -> None:
        """`techauction ARGS` against the bench's stack; raises with its error output."""
        done = subprocess.run([*techauction_command(), *args], env=self.env(), cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"techauction {args[0]} failed:\n{done.stdout}{done.stderr}")

    # -- clean-up --------------------------------------------------------------------
    def close(self, log) -> None:
        """Stop the service, drop the database, delete the Redis keys; each step on its own."""
        steps = (("service", self._stop_server), ("database", self._drop_database),
                 ("redis keys", self._delete_keys), ("temp dir", self._remove_tmp))
        for name, step in steps:
            try:
                step()
            except Exception as exc:
                log(f"[yellow]clean-up of {name} failed: {exc}[/yellow]")

    def _stop_server(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the session this bench started for it
            process.wait(timeout=10)

    def _drop_database(self) -> None:
        if self._db_created:
            execute(self.admin_url, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            self._db_created = False

    def _delete_keys(self) -> None:
        client = redis.Redis.from_url(self.redis_url, socket_timeout=10)
        try:
            batch: list[bytes] = []
            for key in client.scan_iter(match=f"{self.prefix}:*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    client.unlink(*batch)
                    batch.clear()
            if batch:
                client.unlink(*batch)
        finally:
            client.close()

    def _remove_tmp(self) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def execute(url: str, statement: str) -> None:
    """Run one SQL statement (outside a transaction) on the server of a postgresql:// URL."""

    async def run() -> None:
        conn = await asyncpg.connect(plain_url(url), timeout=30)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())
