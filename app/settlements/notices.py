"""What a settlement's changes tell its buyer (app.notifications' outbox, in the change's
transaction): due with amount and date, paid, defaulted, a second-chance offer, reminders."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.notices import lot_facts
from app.notifications.outbox import enqueue
from app.settlements.models import Settlement

TOLD = ("settlement.due", "settlement.second_chance", "settlement.paid", "settlement.defaulted")


def created_type(settlement: Settlement) -> str:
    """A first settlement is due; a later attempt is the runner-up's second chance."""
    return "settlement.due" if settlement.second_chance_of_id is None else "settlement.second_chance"


async def tell(
    session: AsyncSession, settlement: Settlement, event_type: str, *, key: str = "",
    extra: dict | None = None,
) -> None:
    """Tell the buyer organisation one fact of its settlement (once per event type and key)."""
    facts = await lot_facts(session, settlement.auction_id)
    await enqueue(
        session, event_type=event_type, organization_id=settlement.buyer_organization_id,
        auction_id=settlement.auction_id, dedup_key=f"{event_type}:{settlement.id}{key}",
        payload={"title": facts["title"], "settlement_id": settlement.id, "paddle": settlement.paddle,
                 "currency": settlement.currency, "hammer_price": str(settlement.hammer_price),
                 "amount_due": str(settlement.amount_due), "due_date": settlement.due_date.isoformat(),
                 "status": settlement.status.value} | (extra or {}),
    )
