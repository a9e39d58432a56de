"""The app under uvicorn on a free loopback port, and Server-Sent Events read from it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import uvicorn

from app.main import create_app
from app.serving.uvicorn_adapter import CoalescingProtocol
from app.settings import Settings
from tests.support.auctions import API
from tests.support.ports import free_port

TIMEOUT = httpx.Timeout(30.0)


class LiveServer:
    """The app under uvicorn on a free loopback port, in a background thread (bounded waits)."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning",
            lifespan="on", timeout_graceful_shutdown=2, loop="asyncio", http=CoalescingProtocol,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-uvicorn", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive(), "uvicorn exited during start-up"
            assert time.monotonic() < deadline, "uvicorn did not start within 20s"
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        await asyncio.to_thread(self.thread.join, 10)
        if self.thread.is_alive():  # connections that will not finish: stop without them
            self.server.force_exit = True
            await asyncio.to_thread(self.thread.join, 5)
        assert not self.thread.is_alive(), "uvicorn did not stop within 15s"


@dataclass(frozen=True)
class SseEvent:
    id: str | None
    event: str
    data: dict


async def sse_events(response: httpx.Response) -> AsyncIterator[SseEvent]:
    """Parse a text/event-stream response into events (comments and pings skipped)."""
    fields: dict[str, list[str]] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "data" in fields or "event" in fields:
                data = "\n".join(fields.get("data", []))
                yield SseEvent(
                    fields.get("id", [None])[-1], fields.get("event", ["message"])[-1],
                    json.loads(data) if data else {},
                )
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)


@contextlib.asynccontextmanager
async def event_source(
    base_url: str, auction_id: int, *, last_event_id: str | None = None,
    headers: dict | None = None,
) -> AsyncIterator[tuple[httpx.Response, AsyncIterator[SseEvent]]]:
    """An open SSE connection to the auction's events on a live server."""
    extra = dict(headers or {})
    if last_event_id is not None:
        extra["Last-Event-ID"] = last_event_id
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT) as http,
        http.stream("GET", f"{API}/auctions/{auction_id}/events", headers=extra) as response,
    ):
        yield response, sse_events(response)


async def next_events(stream: AsyncIterator[SseEvent], count: int, within: float) -> list[SseEvent]:
    """The next `count` events, or fail after `within` seconds."""
    got: list[SseEvent] = []
    async with asyncio.timeout(within):
        while len(got) < count:
            got.append(await anext(stream))
    return got


async def drain(stream: AsyncIterator[SseEvent], within: float) -> list[SseEvent]:
    """Every remaining event until the server ends the stream, or fail after `within` s."""
    got: list[SseEvent] = []
    async with asyncio.timeout(within):
        async for event in stream:
            got.append(event)
    return got
