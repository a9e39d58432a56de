"""The app the bench serves: the real one, with the bench's endpoints (bench/routes.py) added."""

from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings
from bench.routes import router


def create_bench_app(settings: Settings | None = None) -> FastAPI:
    """app.main's app with the /bench routes right after the bid route."""
    app = create_app(settings)
    routes = app.router.routes
    before = len(routes)
    app.include_router(router)
    # Routes are matched one by one in order: the bid route is first of all, the bench's
    # floors come next, so that they pay one failed match more than a bid, not fewer.
    added = routes[before:]
    del routes[before:]
    routes[1:1] = added
    return app
