"""ASGI middleware: security headers, request body limit, Prometheus request metrics, and
the last resort for unexpected errors."""

import re
import time
from functools import lru_cache
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import REDIS_UNREACHABLE, problem_response, redis_unreachable_response
from app.metrics import LATENCY, REQUESTS

log = structlog.get_logger()

NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """nosniff on every answer; no-store on every answer to a request carrying credentials
    (a bearer token or a cookie), unless the route set its own Cache-Control."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        credentials = any(name in (b"authorization", b"cookie") for name, _ in scope["headers"])

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append(NOSNIFF)
                if credentials and not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add_headers)


class ServerErrors:
    """An unexpected exception becomes a 500 problem here, inside the app, so the server
    keeps the connection (Starlette's outermost handler answers too, but then re-raises,
    and the server drops the keep-alive connection). Once an answer has started, nothing
    can be said any more: the exception goes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            if isinstance(exc, REDIS_UNREACHABLE):  # an outage, not a bug: 503 (app.errors)
                response = redis_unreachable_response(exc, scope.get("path"))
            else:
                log.exception("unhandled_error", path=scope.get("path"))
                response = problem_response(500, "internal_error", "An unexpected error occurred.")
            await response(scope, receive, send)


class BodySizeLimit:
    """Refuse request bodies over max_bytes with 413 before they reach a route."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: tuple[tuple[str, int], ...] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # (path pattern, limit): routes that take more (document uploads, which stream and
        # cap their bodies themselves: app/documents/upload.py)
        self.larger = tuple((re.compile(pattern), BodySizeLimit(app, max_bytes=limit))
                            for pattern, limit in larger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for pattern, limited in self.larger:
            if pattern.match(scope["path"]):
                await limited(scope, receive, send)
                return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            # An HTTPException, which the framework passes on as it is wherever the body is
            # read (any other exception there becomes "an unparsable body", a 422), and the
            # error handlers answer 413 (app/errors.py)
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counting_receive, send)

    def _detail(self) -> str:
        return f"Request bodies are limited to {self.max_bytes} bytes."

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, "payload_too_large", self._detail())
        await response(scope, receive, send)


# HTTP's methods (RFC 9110 and PATCH): any other token a client sends is labelled "other",
# or each new one would add series to the metrics, and they are never dropped
KNOWN_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"))


class RequestMetrics:
    """Count requests and time them by route template (not raw path: bounded labels).

    A template is labelled as within the API: routes included under api_prefix know only
    their path within it, and the bid route, mounted on the app with its full path, is
    labelled the same way."""

    def __init__(self, app: ASGIApp, *, api_prefix: str = "") -> None:
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched").removeprefix(self.api_prefix)
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
            count, latency = _series(method, template, status)
            count.inc()
            latency.observe(time.perf_counter() - start)


@lru_cache(maxsize=1024)
def _series(method: str, template: str, status: int) -> tuple[Any, Any]:
    # prometheus-client's labels() validates and locks on every call; the children it returns
    # for the same labels are the same objects
    return REQUESTS.labels(method, template, str(status)), LATENCY.labels(method, template)
