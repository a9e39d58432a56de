"""How `techauction serve` runs uvicorn: in its own process, or as uvicorn's supervisor of N
workers that each listen on a socket of their own; either way sending each answer in one
write (CoalescingProtocol).

uvicorn's supervisor binds one socket and hands it to every worker; whichever worker wakes
first accepts every connection waiting. Clients that open their connections together (a
proxy's keep-alive pool, a load generator) then land mostly on one worker, whose requests
wait while the other idles (docs/decisions/0006-socket-per-worker.md). With SO_REUSEPORT
each worker listens on a socket of its own and the kernel spreads new connections over them
by a hash of their addresses.
"""

import os
import shutil
import socket
from collections.abc import Callable
from functools import partial

from app.metrics import share_multiprocess_dir
from app.redis import EmbeddedRedis
from app.serving import uvicorn_adapter
from app.serving.uvicorn_adapter import CoalescingProtocol
from app.settings import get_settings

APP = "app.main:create_app"


def serve(
    *, host: str, port: int, workers: int, access_log: bool, app: str = APP,
    say: Callable[[str], object] = print,
) -> None:
    """Serve the app factory `app` (an import string) on host:port with `workers` processes
    until stopped; with no TECHAUCTION_REDIS_URL, on an embedded Redis shared by them all."""
    settings = get_settings()
    embedded = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.var_dir)
        os.environ["TECHAUCTION_REDIS_URL"] = embedded.start()
        say(f"embedded Redis on {embedded.url}")
    # several workers: /metrics sums all of them, whichever one answers
    metrics_dir = share_multiprocess_dir(settings.var_dir) if workers > 1 else None
    try:
        _run(app, host=host, port=port, workers=workers, access_log=access_log)
    finally:
        if embedded is not None:
            embedded.stop()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _run(app: str, *, host: str, port: int, workers: int, access_log: bool) -> None:
    options = {"factory": True, "host": host, "port": port, "proxy_headers": True,
               "log_level": "info", "access_log": access_log, "http": CoalescingProtocol,
               "workers": workers}
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn_adapter.run(app, **options)
    else:
        uvicorn_adapter.run_workers(app, partial(ListenerPerWorker, host), **options)


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port with SO_REUSEPORT (uvicorn's worker listens on it)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class ListenerPerWorker:
    """What the supervisor passes each worker in place of a socket: unpickled in the worker it
    becomes a socket bound there, so a worker's socket lives and dies with it (a restarted
    worker binds a new one; no socket is left queueing connections nobody accepts)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def __reduce__(self) -> tuple:
        return reuse_port_socket, (self.host, self.port)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
