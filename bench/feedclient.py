"""The feed bench's load client: many held SSE connections in one uvloop process.

Run by bench/feed.py as child processes (multiprocessing, spawn). Each watcher is a bare
asyncio Protocol that notes, for every `bid` event, its sequence and the wall-clock time of
the read that brought it; nothing else is parsed. `blast` is a trivial SSE server that writes
events as fast as it can, to show how many events per second this client can take.
"""

from __future__ import annotations

import asyncio
import re
import time

import uvloop

from app.feed.hub import raise_nofile_limit

BID = re.compile(rb'event: bid\ndata: \{"sequence":(\d+)')
OPEN_CONCURRENCY = 64  # streams being opened at once (watchers arrive over time)


class Watcher(asyncio.Protocol):
    """One held stream: (sequence, receipt time) of every bid event, and whether it is open."""

    def __init__(self, request: bytes, opened: asyncio.Future) -> None:
        self.request, self.opened = request, opened
        self.records: list[tuple[int, float]] = []
        self.tail = b""
        self.lost = False

    def connection_made(self, transport) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.opened.done():
            self.opened.set_result(data.startswith(b"HTTP/1.1 200"))
        data = self.tail + data
        cut = data.rfind(b"\n\n") + 2
        self.records += [(int(m[1]), now) for m in BID.finditer(data, 0, cut)]
        self.tail = data[cut:][-4096:]

    def connection_lost(self, exc) -> None:
        self.lost = True
        if not self.opened.done():
            self.opened.set_result(False)


async def _open(host: str, port: int, path: str, count: int) -> list[Watcher]:
    loop = asyncio.get_running_loop()
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one() -> Watcher:
        async with gate:
            watcher = Watcher(request, loop.create_future())
            await loop.create_connection(lambda: watcher, host, port)
            if not await asyncio.wait_for(watcher.opened, 60):
                raise RuntimeError("a stream was refused")
            return watcher

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def _watch(conn, host: str, port: int, path: str, count: int) -> None:
    loop = asyncio.get_running_loop()
    watchers = await _open(host, port, path, count)
    conn.send(("open", len(watchers)))
    await loop.run_in_executor(None, conn.recv)  # "stop"
    conn.send(("done", [w.records for w in watchers], sum(w.lost for w in watchers)))


def watch(conn, host: str, port: int, path: str, count: int) -> None:
    """Child process: hold `count` streams until told to stop, then send what each saw."""
    raise_nofile_limit()
    uvloop.run(_watch(conn, host, port, path, count))


def _blast_handler(events: int):
    event = b'event: bid\ndata: {"sequence":%d,"round":0,"amount":"1000.01","paddle":"P-12345",' \
            b'"placed_at":"2026-12-07T23:00:00.000Z","ends_at":"2026-12-08T23:00:00.000Z"}\n\n'

    class Blaster(asyncio.Protocol):
        def connection_made(self, transport) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
            for n in range(1, events + 1):
                self.transport.write(event % n)

    return Blaster


def blast(port: int, events: int) -> None:
    """Child process: an SSE server writing `events` bid events to each connection at once."""

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(
            _blast_handler(events), "127.0.0.1", port, backlog=4096)
        async with server:
            await server.serve_forever()

    raise_nofile_limit()
    uvloop.run(serve())
