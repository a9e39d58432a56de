"""How `techauction serve` runs uvicorn: in its own process, or as uvicorn's supervisor of N
workers that each listen on a socket of their own.

uvicorn's supervisor binds one socket and hands it to every worker; whichever worker wakes
first accepts every connection waiting. Clients that open their connections together (a
proxy's keep-alive pool, a load generator) then land mostly on one worker: in the bench the
split of 64 connections between 2 workers was as bad as 79/21, the busy worker's bids waited
while the other idled (bench/README.md, "A listening socket per worker"). With SO_REUSEPORT
each worker listens on a socket of its own and the kernel spreads new connections over them
by a hash of their addresses.
"""

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "app.main:create_app"


def serve(*, host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve the app on host:port until stopped, with `workers` worker processes."""
    options = {"factory": True, "host": host, "port": port, "proxy_headers": True,
               "log_level": "info", "access_log": access_log}
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, workers=workers, **options)
        return
    config = uvicorn.Config(APP, workers=workers, **options)
    # uvicorn's own bind checks the port (picks one for 0) and says where it serves. The
    # probe is then closed: the workers' SO_REUSEPORT sockets alone would silently share a
    # port another server listens on.
    with config.bind_socket() as probe:
        config.port = probe.getsockname()[1]
    Multiprocess(config, sockets=[ListenerPerWorker(host, config.port)]).run()


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
