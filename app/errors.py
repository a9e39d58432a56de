"""RFC 9457 problem+json responses with stable machine codes."""

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

log = structlog.get_logger()
PROBLEM_JSON = "application/problem+json"
# Redis could not be reached (down, restarting, loading its AOF) or did not answer in time: a
# deliberate 503 the client retries after RETRY_AFTER_S, never a 500 (a 500 is a bug).
REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
RETRY_AFTER_S = 1


class Problem(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None
    minimum_next_bid: str | None = Field(
        default=None, description="bid_too_low in an open english or dutch round: the lowest "
        "amount the next bid may have now (a decimal string, as money is everywhere)",
    )


def _problem_response_doc(description: str) -> dict[str, Any]:
    return {
        "model": Problem, "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


# Documented on every API route: the error answers any of them may give.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem_response_doc("Not signed in, or the token is invalid"),
    403: _problem_response_doc("The role or organisation may not do this"),
    404: _problem_response_doc("Not found (or not visible to the caller)"),
    409: _problem_response_doc("The current state refuses the request"),
    413: _problem_response_doc("The request body is too large"),
    429: _problem_response_doc("Rate-limited: retry after the Retry-After header's seconds"),
    503: _problem_response_doc("A dependency failed mid-request; nothing was promised, retry"),
    422: _problem_response_doc("The request is malformed"),
}


class AppError(Exception):
    """An error the API reports to the client; subclasses fix status and code."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self, detail: str | None = None, *, code: str | None = None, headers: dict | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        self.code = code or self.code
        self.headers = headers or {}
        self.extensions = extensions or {}  # more members of the problem (fields of Problem)


class Unauthorized(AppError):
    status, code = 401, "unauthenticated"

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class Unprocessable(AppError):
    status, code = 422, "validation_error"


class ServiceUnavailable(AppError):
    status, code = 503, "unavailable"


def unavailable(detail: str) -> ServiceUnavailable:
    """503 unavailable with Retry-After: a dependency is unreachable for a moment."""
    return ServiceUnavailable(detail, code="unavailable", headers={"Retry-After": str(RETRY_AFTER_S)})


def redis_unreachable_response(exc: Exception, path: str | None) -> JSONResponse:
    """The answer to a Redis error nobody handled on the way: 503, one warning line, no
    traceback (an outage is expected, and would otherwise flood the log with them)."""
    log.warning("redis_unreachable", path=path, error=type(exc).__name__, detail=str(exc)[:200])
    error = unavailable("A service this request needs is unreachable for a moment; retry.")
    return problem_response(error.status, error.code, error.detail, headers=error.headers)


class TooManyRequests(AppError):
    status, code = 429, "rate_limited"

    def __init__(
        self, detail: str | None = None, *, code: str | None = None, headers: dict | None = None
    ) -> None:
        super().__init__(detail, code=code, headers=headers)


def problem_response(
    status: int, code: str, detail: str | None = None, *, errors: list | None = None,
    headers: dict | None = None, extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response (an AppError's extensions may carry its errors)."""
    extensions = dict(extensions or {})
    errors = errors or extensions.pop("errors", None)
    body = Problem(
        title=HTTPStatus(status).phrase, status=status, code=code, detail=detail, errors=errors,
        **extensions,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON,
        headers=headers,
    )


def _clean_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Echoing the rejected input back could return megabytes; keep where and why only.
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))[:500], "type": e.get("type")}
        for e in errors
    ]


_STATUS_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
}


def allowed_methods(request: Request) -> str:
    """Every method some route of the app takes on the request's path, for Allow."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.methods and compile_path(route.path)[0].match(request.url.path):
            methods |= route.methods
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    """Turn every error into problem+json."""

    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.detail, headers=exc.headers,
                                extensions=exc.extensions)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            422, "validation_error", "The request is not valid.",
            errors=_clean_errors(list(exc.errors())),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # Only the framework raises a bare 400: a body it could not parse at all (JSON that
            # is not UTF-8, a broken form). That is a malformed request like any other: 422.
            return problem_response(
                422, "validation_error", "The request body could not be parsed.",
                errors=[{"loc": ["body"], "msg": "unparsable body", "type": "body_unparsable"}],
            )
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = exc.headers
        if exc.status_code == 405:
            # the router names the methods of the first route of the path only
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return problem_response(exc.status_code, code, detail, headers=headers)

    @app.exception_handler(RedisConnectionError)
    @app.exception_handler(RedisTimeoutError)
    async def _redis_unreachable(request: Request, exc: Exception) -> JSONResponse:
        return redis_unreachable_response(exc, request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, REDIS_UNREACHABLE):  # raised outside the routes (a middleware)
            return redis_unreachable_response(exc, request.url.path)
        log.exception("unhandled_error", path=request.url.path)
        return problem_response(500, "internal_error", "An unexpected error occurred.")
