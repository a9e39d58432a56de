"""The catalogue at `/`: what is on sale now and soon."""

from fastapi import APIRouter
from starlette.responses import Response

from app.web.messages import message
from app.web.page import PageDep
from app.web.views.catalogue import catalogue

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index(page: PageDep) -> Response:
    view = await catalogue(page.db, engine=page.request.app.state.engine, principal=page.principal)
    notice = page.request.query_params.get("notice")
    return page.render("catalogue.html", view=view, notice=message(notice) if notice else None)
