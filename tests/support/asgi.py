"""HTTP through an app in process, over ASGI (no server, no socket)."""

import contextlib
from collections.abc import AsyncIterator

import httpx


@contextlib.asynccontextmanager
async def asgi_client(app) -> AsyncIterator[httpx.AsyncClient]:
    """An AsyncClient whose requests the app answers in process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
