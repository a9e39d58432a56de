"""A Redis error nobody handled, raised by a route or by a middleware: 503 unavailable with
Retry-After and one warning line, not a 500 with a traceback."""

import httpx
import pytest
import structlog
from fastapi import FastAPI
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from structlog.testing import capture_logs

from app import errors
from app.middleware import ServerErrors


def _app() -> FastAPI:
    app = FastAPI()
    errors.install_error_handlers(app)

    @app.get("/timeout")
    async def _timeout() -> None:
        raise RedisTimeoutError("Timeout reading from socket")

    @app.middleware("http")
    async def _outside_the_routes(request, call_next):
        if request.url.path == "/middleware":
            raise RedisConnectionError("Connection refused")
        return await call_next(request)

    app.add_middleware(ServerErrors)
    return app


@pytest.mark.parametrize("path", ["/timeout", "/middleware"])
async def test_a_redis_error_is_a_503_with_one_warning(path, monkeypatch):
    monkeypatch.setattr(errors, "log", structlog.get_logger())  # the module's may be cached
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    with capture_logs() as logs:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get(path)

    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.json()["code"] == "unavailable"
    assert [(e["event"], e["log_level"]) for e in logs] == [("redis_unreachable", "warning")]
    assert "exc_info" not in logs[0] and logs[0]["path"] == path
