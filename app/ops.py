"""Operational endpoints at the root: liveness, readiness, metrics."""

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from app.errors import PROBLEM_RESPONSES, NotFound, Unauthorized
from app.metrics import exposition

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a dependency is unreachable"}})
async def readyz(request: Request) -> JSONResponse:
    """The database and Redis answer."""
    checks = {"database": "ok", "redis": "ok"}
    try:
        async with request.app.state.db_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await request.app.state.redis.ping()
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics", response_class=Response,
    responses={k: PROBLEM_RESPONSES[k] for k in (401, 404)},
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of the server, all its worker processes together: only with
    `Authorization: Bearer <TECHAUCTION_METRICS_TOKEN>`, and not at all (404) without that setting."""
    expected = request.app.state.settings.metrics_token
    if expected is None or not expected.get_secret_value():
        raise NotFound("Metrics are off (no TECHAUCTION_METRICS_TOKEN).")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.get_secret_value().encode()
    ):
        raise Unauthorized("GET /metrics needs the metrics bearer token.", code="invalid_token")
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
