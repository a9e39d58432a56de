"""A responder that does as little as HTTP allows, to show wrk's own ceiling.

`python -m bench.ceiling PORT` answers every request with 200 "{}" on keep-alive
connections (uvloop + httptools, one process). wrk with the very same Lua script against it
reaches a rate far above what the app serves even for its no-op endpoint (a), so the load
generator is not what limits the figures.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import httptools
import uvloop

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class _Responder(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_message_complete(self) -> None:
        self.transport.write(RESPONSE)


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Responder, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


class Ceiling:
    """The responder as a child process, for the duration of a with-block."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Ceiling:
        root = Path(__file__).resolve().parent.parent
        self.process = subprocess.Popen([sys.executable, "-m", "bench.ceiling", str(self.port)],
                                        cwd=root)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the ceiling responder did not start")

    def pids(self) -> list[int]:
        return [self.process.pid] if self.process is not None else []

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
            self.process = None


if __name__ == "__main__":
    try:
        uvloop.run(_serve(int(sys.argv[1])))
    except KeyboardInterrupt:
        pass
