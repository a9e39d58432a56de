"""The Redis side of bidding: the Lua scripts in lua/, run by Engine, and their replies.

Every key of one auction shares the hash tag ``{auction:<id>}`` (Redis Cluster safe). The
public face of this layer is re-exported here; the modules are engine.py (Engine),
replies.py (what the scripts answer, as the rules' vocabulary) and batcher.py.
"""

from app.auctions.engine.engine import Engine
from app.auctions.engine.replies import (
    AuctionKeys,
    BidAccepted,
    BidRejected,
    BidResult,
    CloseResult,
    CloseStatus,
    Event,
    OpenResult,
    OpenStatus,
    PlacedBid,
    Snapshot,
    fingerprint_of,
)

__all__ = [
    "AuctionKeys", "BidAccepted", "BidRejected", "BidResult", "CloseResult", "CloseStatus",
    "Engine", "Event", "OpenResult", "OpenStatus", "PlacedBid", "Snapshot", "fingerprint_of",
]
