"""The ASGI application: routers, error handlers, middleware and lifespan."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from app import ops
from app.auctions.engine import Engine
from app.auctions.routes import bidders_router, mount_bid_route
from app.auctions.routes import router as auctions_router
from app.auctions.trail.journal import Journal
from app.auctions.trail.recovery import resync_from_sql
from app.audit.routes import router as audit_router
from app.closing.closer import run_closer
from app.closing.routes import router as result_router
from app.db import create_engine, create_sessionmaker
from app.documents.routes import CONSOLE_UPLOAD_PATH as DOCUMENT_CONSOLE_PATH
from app.documents.routes import UPLOAD_PATH as DOCUMENT_UPLOAD_PATH
from app.documents.routes import router as documents_router
from app.errors import PROBLEM_RESPONSES, install_error_handlers
from app.exports.routes import router as export_router
from app.feed.hub import Hub, Limits, create_feed_redis
from app.identity.routes import router as identity_router
from app.identity.service import token_versions
from app.listings.routes import router as listings_router
from app.logging import configure_logging
from app.middleware import BodySizeLimit, RequestMetrics, SecurityHeaders, ServerErrors
from app.paperwork.routes import router as paperwork_router
from app.questions.routes import router as questions_router
from app.ratelimit import RateLimiter
from app.redis import create_redis, redis_url_or_embedded
from app.security import TokenCache
from app.serving.gc import tune_gc
from app.sessions.routes import lots_router
from app.sessions.routes import router as sessions_router
from app.settings import Settings, get_settings
from app.settlements.routes import router as settlements_router
from app.web import mount as mount_web

API_PREFIX = "/api/v1"

@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the database engine and Redis for the app's life; close them after."""
    settings: Settings = app.state.settings
    settings.jwt_key()  # fail at start-up, not at first sign-in
    db_engine = create_engine(settings.sqlalchemy_url)
    redis_url, embedded = redis_url_or_embedded(settings)
    redis = create_redis(redis_url, cluster=settings.redis_cluster)
    app.state.db_engine = db_engine
    app.state.sessionmaker = create_sessionmaker(db_engine)
    app.state.redis = redis
    app.state.engine = Engine(redis, settings.redis_prefix)
    app.state.rate_limiter = RateLimiter(redis, settings.redis_prefix)
    app.state.token_versions = token_versions(
        redis=redis, prefix=settings.redis_prefix, sessionmaker=app.state.sessionmaker)
    # The journal has its own connection so group commits never queue behind reads; it holds
    # it between batches (no pre-ping) and retries a batch once on a new one if it broke.
    journal_engine = create_engine(
        settings.sqlalchemy_url, pool_size=2, autocommit=True, pre_ping=False)
    app.state.journal = Journal(
        journal_engine,
        on_sequence_taken=partial(resync_from_sql, app.state.engine, app.state.sessionmaker),
        linger_s=settings.journal_linger_ms / 1000,
    )
    app.state.journal.start()
    app.state.feed = Hub(create_feed_redis(redis_url, cluster=settings.redis_cluster), Limits(
        queue_size=settings.feed_queue_size, history_size=settings.feed_history_size,
        keepalive_s=settings.feed_keepalive_seconds,
        per_client=settings.feed_max_streams_per_client,
        per_process=settings.feed_max_streams_per_process))
    await app.state.feed.start()
    if settings.gc_freeze:
        tune_gc()
    stop = asyncio.Event()
    closer = None
    if settings.runs_closer_in_api:
        closer = asyncio.create_task(run_closer(app.state.engine, app.state.sessionmaker, stop=stop))
    try:
        yield
    finally:
        stop.set()
        if closer is not None:
            await closer
        await app.state.feed.stop()
        await app.state.journal.stop()
        await journal_engine.dispose()
        await app.state.engine.aclose()
        await redis.aclose()
        await db_engine.dispose()
        if embedded is not None:
            embedded.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for the given (or environment) settings."""
    settings = settings or get_settings()
    configure_logging()
    app = FastAPI(
        title="techauction",
        version="0.1.0",
        summary="Auctions of sci-tech outcomes with auditable settlement.",
        lifespan=lifespan,
        # FastAPI's OpenTelemetry bridge: unused here (Prometheus and structlog are), and it
        # looks up the OpenTelemetry providers on every request
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # /docs is served by app.web from a pinned package (nothing from a CDN); no ReDoc
        docs_url=None, redoc_url=None,
    )
    app.state.settings = settings
    app.state.tokens = TokenCache(settings)
    install_error_handlers(app)
    # the last added is the outermost
    app.add_middleware(ServerErrors)
    app.add_middleware(RequestMetrics, api_prefix=API_PREFIX)
    # a document upload: its file plus the form's few fields and boundaries
    upload_limit = settings.document_max_bytes + 64 * 1024
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, larger=(
        (DOCUMENT_UPLOAD_PATH, upload_limit), (DOCUMENT_CONSOLE_PATH, upload_limit)))
    app.add_middleware(SecurityHeaders)
    mount_bid_route(app, prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
    for router in (
        auctions_router, result_router, bidders_router, identity_router, listings_router,
        settlements_router, audit_router, export_router, sessions_router, lots_router,
        paperwork_router, documents_router, questions_router,
    ):
        app.include_router(router, prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
    app.include_router(ops.router)
    mount_web(app)  # the pages: after every API route, so none of them shadows one
    return app
