"""What app/serving/uvicorn_adapter.py relies on in uvicorn, beyond its documented API: these
fail when a uvicorn release changes it (the pin in pyproject.toml is widened only with them
passing)."""

import asyncio
import inspect
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState
from uvicorn.supervisors import Multiprocess

from app.serving.transport import CoalescingTransport
from app.serving.uvicorn_adapter import CoalescingProtocol

REQUEST = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
BODY = b'{"ok":true}'


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


class _Socket(asyncio.Transport):
    """A transport recording each call that reaches the socket."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, data: Any) -> None:
        self.calls.append(("writelines", b"".join(data)))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _app(scope: dict, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


class _CountingProtocol(CoalescingProtocol):
    completed = 0

    def on_response_complete(self) -> None:
        type(self).completed += 1
        super().on_response_complete()


def test_the_protocol_hooks_keep_their_signatures() -> None:
    assert _parameters(HttpToolsProtocol.connection_made) == ["self", "transport"]
    assert _parameters(HttpToolsProtocol.on_response_complete) == ["self"]
    assert _parameters(HttpToolsProtocol.__init__)[:4] == ["self", "config", "server_state", "app_state"]


async def test_an_answer_goes_through_the_wrapped_transport_in_one_call() -> None:
    config = uvicorn.Config(_app, http=_CountingProtocol, lifespan="off", access_log=False)
    config.load()
    assert config.http_protocol_class is _CountingProtocol
    protocol = _CountingProtocol(config=config, server_state=ServerState(), app_state={})
    sock = _Socket()

    protocol.connection_made(sock)
    assert isinstance(protocol.transport, CoalescingTransport)  # uvicorn writes to what it was given
    protocol.data_received(REQUEST)
    for _ in range(20):  # the request's task runs, then the held writes leave
        await asyncio.sleep(0)

    assert _CountingProtocol.completed == 1
    assert len(sock.calls) == 1 and sock.calls[0][0] == "writelines"
    assert sock.calls[0][1].startswith(b"HTTP/1.1 200 OK\r\n") and sock.calls[0][1].endswith(BODY)
    protocol.connection_lost(None)


def test_the_supervisor_takes_the_sockets_its_workers_serve() -> None:
    assert _parameters(Multiprocess.__init__) == ["self", "config", "sockets"]
    assert callable(Multiprocess.run)
    assert "sockets" in _parameters(uvicorn.Server.run)


def test_config_binds_and_reports_the_port_it_checked() -> None:
    config = uvicorn.Config(_app, host="127.0.0.1", port=0)

    with config.bind_socket() as probe:
        assert isinstance(probe, socket.socket)
        assert probe.getsockname()[1] > 0
