"""The auction result endpoint (public once the closer has finalised the auction)."""

from fastapi import APIRouter

from app.auctions import service as auctions
from app.auctions.schemas import AuctionResult
from app.closing import results
from app.db import SessionDep
from app.schemas import IdPath
from app.security import OptionalUser

router = APIRouter(prefix="/auctions", tags=["auctions"])


@router.get("/{auction_id}/result", response_model=AuctionResult)
async def get_result(session: SessionDep, auction_id: IdPath, viewer: OptionalUser) -> AuctionResult:
    """Sold (winning paddle, hammer price) or unsold, once the auction is closed; the
    listing's institute, admin and auditor are also told why an unsold one did not sell."""
    auction = await auctions.get_auction(session, auction_id=auction_id)
    return await results.result(session, auction=auction, viewer=viewer)
