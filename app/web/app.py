"""Mount the web application on the API's app: pages, static files, offline API docs."""

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response

from app.web.page import STATIC, PageError, get_page
from app.web.routes import (
    audit,
    auth,
    catalogue,
    console,
    dossier,
    listings,
    operations,
    paperwork,
    room,
    sessions,
)

DOCS_ASSETS = "/static/swagger-ui"


def mount(app: FastAPI) -> None:
    """Add the pages to the app (after the API: its routes are matched first)."""
    for module in (catalogue, room, auth, console, listings, operations, audit, sessions, paperwork,
                   dossier):
        app.include_router(module.router)
    _mount_docs(app)
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(PageError, _page_error)


async def _page_error(request: Request, exc: PageError) -> Response:
    # A page's refusal, rendered as a page in the viewer's language (sessions need the DB).
    async with request.app.state.sessionmaker() as db:
        page = await get_page(request, db)
        return page.render("error.html", status=exc.status, status_code=exc.status,
                           message=exc.message)


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI from the pinned swagger-ui-bundle package: nothing from another origin."""
    redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=redirect, swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(redirect, include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
