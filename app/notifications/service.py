"""The inbox, an organisation's webhooks and the dead letters: what the API reads and changes."""

import base64
import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import ledger
from app.db import utcnow
from app.errors import NotFound
from app.identity.models import Organization, User
from app.notifications.models import Delivery, DeliveryStatus, InboxItem, Notification, Webhook
from app.notifications.render import render
from app.notifications.schemas import DeliveryOut, InboxItemOut, WebhookIn
from app.pagination import PageParams, fetch_page
from app.security import Principal, Role


async def inbox(
    session: AsyncSession, *, principal: Principal, page: PageParams, unread: bool = False,
    language: str | None = None,
) -> tuple[list[InboxItemOut], str | None]:
    """The caller's notifications, newest first, in his language (or the one given: a page's)."""
    stmt = select(InboxItem).where(InboxItem.user_id == principal.user_id)
    if unread:
        stmt = stmt.where(InboxItem.read_at.is_(None))
    items, cursor = await fetch_page(session, stmt, id_column=InboxItem.id, page=page)
    language = language or await session.scalar(select(User.language).where(User.id == principal.user_id))
    notes = {n.id: n for n in (await session.scalars(select(Notification).where(
        Notification.id.in_([i.notification_id for i in items])))).all()}
    out = []
    for item in items:
        note = notes[item.notification_id]
        subject, body = render(note.type, note.payload, language)
        out.append(InboxItemOut(
            id=item.id, notification_id=note.id, type=note.type, auction_id=note.auction_id,
            subject=subject, body=body, payload=note.payload, created_at=note.created_at,
            read_at=item.read_at))
    return out, cursor


async def mark_read(session: AsyncSession, *, principal: Principal, item_id: int | None) -> int:
    """Mark one inbox item (or, with None, all of them) read; how many changed."""
    stmt = update(InboxItem).where(InboxItem.user_id == principal.user_id, InboxItem.read_at.is_(None))
    if item_id is not None:
        owned = await session.scalar(select(InboxItem.id).where(
            InboxItem.id == item_id, InboxItem.user_id == principal.user_id))
        if owned is None:
            raise NotFound("no such notification")
        stmt = stmt.where(InboxItem.id == item_id)
    changed = await session.execute(stmt.values(read_at=utcnow()).execution_options(
        synchronize_session=False))
    await session.commit()
    return changed.rowcount


async def set_language(session: AsyncSession, *, principal: Principal, language: str) -> None:
    """The caller's notification language."""
    await session.execute(update(User).where(User.id == principal.user_id).values(language=language))
    await session.commit()


async def _require_org_access(session: AsyncSession, principal: Principal, organization_id: int) -> None:
    """Admin, or a user of that (enterprise or institute) organisation; 404 for anyone else."""
    if principal.role is Role.admin and await session.get(Organization, organization_id):
        return
    if principal.role in (Role.enterprise, Role.institute) and principal.organization_id == organization_id:
        return
    raise NotFound("no such organization")


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


async def create_webhook(
    session: AsyncSession, *, principal: Principal, organization_id: int, data: WebhookIn
) -> Webhook:
    """Register a webhook for an organisation; its secret is returned once."""
    await _require_org_access(session, principal, organization_id)
    hook = Webhook(organization_id=organization_id, url=str(data.url), secret=new_secret(),
                   events=sorted(set(data.events)))
    session.add(hook)
    await session.flush()
    await ledger.append(session, actor_id=principal.user_id, action="webhook.created",
                        entity_type="organization", entity_id=organization_id,
                        payload={"webhook_id": hook.id, "url": hook.url, "events": hook.events})
    await session.commit()
    return hook


async def list_webhooks(
    session: AsyncSession, *, principal: Principal, organization_id: int
) -> list[Webhook]:
    """An organisation's active webhooks."""
    await _require_org_access(session, principal, organization_id)
    return list((await session.scalars(select(Webhook).where(
        Webhook.organization_id == organization_id, Webhook.disabled_at.is_(None))
        .order_by(Webhook.id))).all())


async def delete_webhook(
    session: AsyncSession, *, principal: Principal, organization_id: int, webhook_id: int
) -> None:
    """Disable a webhook: nothing more is queued for it."""
    await _require_org_access(session, principal, organization_id)
    hook = await session.get(Webhook, webhook_id)
    if hook is None or hook.organization_id != organization_id or hook.disabled_at is not None:
        raise NotFound("no such webhook")
    hook.disabled_at = utcnow()
    await ledger.append(session, actor_id=principal.user_id, action="webhook.disabled",
                        entity_type="organization", entity_id=organization_id,
                        payload={"webhook_id": hook.id})
    await session.commit()


def _delivery_out(delivery: Delivery, event_type: str) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id, notification_id=delivery.notification_id, type=event_type,
        channel=delivery.channel.value, user_id=delivery.user_id, webhook_id=delivery.webhook_id,
        status=delivery.status.value, attempts=delivery.attempts, last_error=delivery.last_error,
        created_at=delivery.created_at, next_attempt_at=delivery.next_attempt_at)


async def dead_letters(session: AsyncSession, *, page: PageParams) -> tuple[list[DeliveryOut], str | None]:
    """Deliveries given up after the retry window, newest first (admin)."""
    rows, cursor = await fetch_page(
        session, select(Delivery).where(Delivery.status == DeliveryStatus.dead),
        id_column=Delivery.id, page=page)
    types = dict((await session.execute(select(Notification.id, Notification.type).where(
        Notification.id.in_([d.notification_id for d in rows])))).all())
    return [_delivery_out(d, types[d.notification_id]) for d in rows], cursor


async def redeliver(session: AsyncSession, *, principal: Principal, delivery_id: int) -> DeliveryOut:
    """Queue a dead letter again, with a fresh retry window (admin)."""
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None or delivery.status is not DeliveryStatus.dead:
        raise NotFound("no such dead letter")
    now = utcnow()
    delivery.status, delivery.attempts, delivery.created_at = DeliveryStatus.pending, 0, now
    delivery.next_attempt_at, delivery.lease_until, delivery.lease_token = now, None, None
    await ledger.append(session, actor_id=principal.user_id, action="notification.redelivered",
                        entity_type="notification_delivery", entity_id=delivery.id,
                        payload={"notification_id": delivery.notification_id})
    await session.commit()
    event_type = await session.scalar(select(Notification.type).where(
        Notification.id == delivery.notification_id))
    return _delivery_out(delivery, event_type)
