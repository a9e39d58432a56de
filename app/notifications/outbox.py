"""Writing the outbox: called inside the transaction of the change a notification reports,
so both commit or neither does. Plain data in: no other domain's models are read here."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.identity.models import User
from app.notifications.models import Channel, Delivery, InboxItem, Notification, Webhook
from app.notifications.render import EVENT_TYPES


def new_id() -> str:
    """A notification's stable id (Standard Webhooks' msg_ prefix)."""
    return "msg_" + uuid.uuid4().hex


async def enqueue(
    session: AsyncSession, *, event_type: str, organization_id: int, payload: dict[str, Any],
    dedup_key: str, auction_id: int | None = None, user_ids: list[int] | None = None,
) -> str | None:
    """Write one notification for one organisation: an inbox item per active user, an email
    delivery per user (skipped by a worker with no SMTP) and a webhook delivery per matching webhook.
    user_ids narrows the users told (a watcher, not his colleagues); webhooks get it all the
    same. The notification's id, or None when dedup_key was already written."""
    assert event_type in EVENT_TYPES, event_type
    notification = Notification(
        id=new_id(), type=event_type, organization_id=organization_id, auction_id=auction_id,
        payload={"type": event_type, "auction_id": auction_id} | payload, dedup_key=dedup_key,
    )
    try:
        async with session.begin_nested():
            session.add(notification)
            await session.flush()
    except IntegrityError:
        return None  # this fact was already told
    who = select(User.id).where(User.organization_id == organization_id, User.is_active.is_(True))
    if user_ids is not None:
        who = who.where(User.id.in_(user_ids))
    users = (await session.scalars(who)).all()
    for user_id in users:
        session.add(InboxItem(notification_id=notification.id, user_id=user_id))
        session.add(Delivery(notification_id=notification.id, channel=Channel.email, user_id=user_id))
    hooks = (await session.execute(select(Webhook.id, Webhook.events).where(
        Webhook.organization_id == organization_id, Webhook.disabled_at.is_(None)))).all()
    for hook_id, events in hooks:
        if not events or event_type in events:
            session.add(Delivery(notification_id=notification.id, channel=Channel.webhook,
                                 webhook_id=hook_id))
    await session.flush()
    return notification.id
