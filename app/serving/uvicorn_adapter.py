"""Every use of uvicorn beyond its public run()/Config/Server API, in one place.

uvicorn documents neither its protocol classes nor its supervisor's `sockets` argument nor
Config.bind_socket; they may change in any release. pyproject.toml pins uvicorn to one minor
version, and tests/serving/test_uvicorn_adapter.py fails when what this module relies on
changes: read uvicorn's changes for each of them before widening the pin."""

import asyncio
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from app.serving.transport import CoalescingTransport


class CoalescingProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing an answer's head and body in one system call.

    uvicorn writes a response's head and each part of its body straight to the socket: two
    send() calls and two TCP segments for every answer, the client woken for each. Through a
    CoalescingTransport they leave together when the response is complete. Relies on uvicorn
    handing connection_made the transport it then writes to (self.transport), and calling
    on_response_complete once an answer is written."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport))  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        self.transport.send_held()  # type: ignore[attr-defined]
        super().on_response_complete()


def run(app: str, **options: Any) -> None:
    """uvicorn.run: the app factory `app` served in this process (or by uvicorn's supervisor
    of workers sharing one socket)."""
    uvicorn.run(app, **options)


def run_workers(app: str, socket_for: Callable[[int], Any], **options: Any) -> None:
    """uvicorn's supervisor of options["workers"] processes, each unpickling socket_for(port)
    as its only listening socket.

    The port is checked by uvicorn's own bind first (it picks one for 0 and says where it
    serves); that probe is then closed: the workers' SO_REUSEPORT sockets alone would
    silently share a port another server listens on."""
    config = uvicorn.Config(app, **options)
    with config.bind_socket() as probe:
        config.port = probe.getsockname()[1]
    Multiprocess(config, sockets=[socket_for(config.port)]).run()
