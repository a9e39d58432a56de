"""Watching a lot: told when it is about to open and before its registration closes."""

from fastapi import APIRouter, Response

from app.auctions.service import get_auction
from app.db import SessionDep
from app.notifications import watches
from app.schemas import IdPath, NoBody
from app.security import CurrentUser

router = APIRouter(tags=["notifications"])


@router.post("/auctions/{auction_id}/watch", status_code=204)
async def watch(session: SessionDep, principal: CurrentUser, auction_id: IdPath,
                body: NoBody = None) -> Response:
    """Watch a lot (again: no change): a lot.opening notice before it opens."""
    await get_auction(session, auction_id=auction_id, principal=principal)
    await watches.watch(session, user_id=principal.user_id, auction_id=auction_id)
    return Response(status_code=204)


@router.delete("/auctions/{auction_id}/watch", status_code=204)
async def unwatch(session: SessionDep, principal: CurrentUser, auction_id: IdPath) -> Response:
    """Stop watching a lot."""
    await watches.unwatch(session, user_id=principal.user_id, auction_id=auction_id)
    return Response(status_code=204)


@router.get("/me/watches", response_model=list[int])
async def my_watches(session: SessionDep, principal: CurrentUser) -> list[int]:
    """The ids of the auctions the caller watches."""
    return await watches.watched(session, user_id=principal.user_id)
