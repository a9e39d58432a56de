"""How `techauction serve` runs uvicorn: in its own process, or as uvicorn's supervisor of N
workers that each listen on a socket of their own; either way sending each answer in one
write (CoalescingProtocol).

uvicorn's supervisor binds one socket and hands it to every worker; whichever worker wakes
first accepts every connection waiting. Clients that open their connections together (a
proxy's keep-alive pool, a load generator) then land mostly on one worker: in the bench the
split of 64 connections between 2 workers was as bad as 79/21, the busy worker's bids waited
while the other idled (bench/README.md, "A listening socket per worker"). With SO_REUSEPORT
each worker listens on a socket of its own and the kernel spreads new connections over them
by a hash of their addresses.
"""

import asyncio
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

APP = "app.main:create_app"


def serve(*, host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve the app on host:port until stopped, with `workers` worker processes."""
    options = {"factory": True, "host": host, "port": port, "proxy_headers": True,
               "log_level": "info", "access_log": access_log, "http": CoalescingProtocol}
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


class CoalescingProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing an answer's head and body in one system call.

    uvicorn writes a response's head and each part of its body straight to the socket: two
    send() calls and two TCP segments for every answer, the client woken for each. Through a
    CoalescingTransport they leave together when the response is complete."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport))  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        self.transport.send_held()  # type: ignore[attr-defined]
        super().on_response_complete()


class CoalescingTransport:
    """A transport that holds what is written to it until told to send, or the loop turn ends.

    The end of the turn is for a streamed response (server-sent events): its head and each
    event leave at the end of the turn that wrote them, without waiting for the next one.
    close() sends what is held first; abort() drops it."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self.send_held)
        self._held.append(data)

    def writelines(self, data: list[bytes]) -> None:
        for chunk in data:
            self.write(chunk)

    def send_held(self) -> None:
        """Send what is held, in one system call where the socket takes it all."""
        held, self._held = self._held, []
        if held and not self._transport.is_closing():
            self._transport.writelines(held)

    def close(self) -> None:
        self.send_held()
        self._transport.close()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def is_closing(self) -> bool:  # asked after every answer: spared the __getattr__ detour
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
