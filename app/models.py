"""Every mapped model, imported so Base.metadata is complete (Alembic, tests)."""

from app.auctions.models import Auction, AuctionRound, Bid, Registration
from app.audit.models import LedgerEntry, LedgerHead
from app.db import Base
from app.documents.models import Document, DocumentChunk, NdaAcceptance
from app.identity.models import Organization, User
from app.listings.models import Listing
from app.paperwork.models import SignedPaper
from app.questions.models import Question
from app.sessions.models import AuctionSession, SessionRegistration
from app.settlements.models import Settlement

__all__ = [
    "Auction", "AuctionRound", "AuctionSession", "Base", "Bid", "Document", "DocumentChunk",
    "LedgerEntry", "LedgerHead", "Listing", "NdaAcceptance", "Organization", "Question",
    "Registration", "SessionRegistration", "Settlement", "SignedPaper", "User",
]
