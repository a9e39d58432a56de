"""The worker's delivery loop: claim due deliveries with a lease, send them (email over SMTP,
webhooks signed per Standard Webhooks), record the outcome. At least once: a worker killed
mid-send leaves its lease to run out, and the next claim sends again with the same id."""

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import httpx
import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook as Signer

from app.db import utcnow
from app.identity.models import User
from app.notifications.models import Channel, Delivery, DeliveryStatus, Notification, Webhook
from app.notifications.render import render
from app.settings import Settings

log = structlog.get_logger()
Clock = Callable[[], datetime]
LEASE_SECONDS = 60.0
BATCH = 50
SEND_TIMEOUT_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 3600.0


@dataclass(frozen=True)
class Policy:
    """Where email goes and how long a failing delivery is retried."""

    smtp_url: str | None
    smtp_from: str
    backoff_seconds: float
    retry_hours: float
    lease_seconds: float = LEASE_SECONDS


def delivery_policy(settings: Settings) -> Policy:
    """The worker's policy from its settings."""
    return Policy(smtp_url=settings.smtp_url, smtp_from=settings.smtp_from,
                  backoff_seconds=settings.notify_backoff_seconds,
                  retry_hours=settings.notify_retry_hours,
                  lease_seconds=settings.notify_lease_seconds)


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    channel: Channel
    notification: dict[str, Any]  # id, type, created_at, payload
    email: str | None
    language: str
    url: str | None
    secret: str | None
    created_at: datetime


def backoff(attempts: int, base: float) -> float:
    """Seconds before the next try after `attempts` failures: doubling, at most an hour."""
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


async def claim(
    session: AsyncSession, *, now: datetime, lease_seconds: float = LEASE_SECONDS, batch: int = BATCH
) -> list[Claimed]:
    """Lease up to batch due deliveries to this caller. PostgreSQL skips rows another worker
    holds locked (FOR UPDATE SKIP LOCKED); the conditional update of the lease decides on
    SQLite too, whose writers take turns."""
    due = (Delivery.status == DeliveryStatus.pending, Delivery.next_attempt_at <= now,
           or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))
    ids = (await session.scalars(
        select(Delivery.id).where(*due).order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(batch).with_for_update(skip_locked=True)
    )).all()
    if not ids:
        await session.rollback()
        return []
    token = uuid.uuid4().hex
    await session.execute(
        update(Delivery).where(Delivery.id.in_(ids), *due)
        .values(lease_until=now + timedelta(seconds=lease_seconds), lease_token=token)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(
        select(Delivery, Notification, User.email, User.language, Webhook.url, Webhook.secret)
        .join(Notification, Notification.id == Delivery.notification_id)
        .outerjoin(User, User.id == Delivery.user_id)
        .outerjoin(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.lease_token == token)
    )).all()
    await session.commit()
    return [Claimed(
        delivery_id=d.id, channel=d.channel, email=email, language=language or "zh", url=url,
        secret=secret, created_at=d.created_at,
        notification={"id": n.id, "type": n.type, "created_at": n.created_at, "payload": n.payload},
    ) for d, n, email, language, url, secret in rows]


def webhook_body(notification: dict[str, Any]) -> str:
    """The Standard Webhooks body: {type, timestamp, data}."""
    created: datetime = notification["created_at"]
    return json.dumps({
        "type": notification["type"],
        "timestamp": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": notification["payload"] | {"id": notification["id"]},
    }, separators=(",", ":"), ensure_ascii=False)


async def send_webhook(client: httpx.AsyncClient, item: Claimed, *, now: datetime) -> None:
    """POST the signed notification; anything but a 2xx raises."""
    body = webhook_body(item.notification)
    msg_id = item.notification["id"]
    signature = Signer(item.secret).sign(msg_id, now, body)
    response = await client.post(item.url, content=body.encode(), headers={
        "content-type": "application/json", "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature,
    })
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"webhook answered {response.status_code}")


def email_message(item: Claimed, sender: str) -> EmailMessage:
    """The mail of one notification in its recipient's language (Message-ID from its id)."""
    subject, body = render(item.notification["type"], item.notification["payload"], item.language)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = item.email
    message["Subject"] = subject
    message["Message-ID"] = f"<{item.notification['id']}.{item.delivery_id}@techauction>"
    message["X-Techauction-Notification"] = item.notification["id"]
    message.set_content(body)
    return message


async def send_email(item: Claimed, policy: Policy) -> None:
    """Send over SMTP (smtp:// or smtps://, with credentials if the URL has them)."""
    url = urlsplit(policy.smtp_url)
    await aiosmtplib.send(
        email_message(item, policy.smtp_from), hostname=url.hostname,
        port=url.port or (465 if url.scheme == "smtps" else 25), use_tls=url.scheme == "smtps",
        start_tls=False if url.scheme == "smtp" else None,
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None, timeout=SEND_TIMEOUT_SECONDS,
    )


async def _send(client: httpx.AsyncClient, item: Claimed, policy: Policy, now: datetime) -> str | None:
    """Send one; None when done, else why it failed ("" for skipped)."""
    try:
        if item.channel is Channel.webhook:
            await send_webhook(client, item, now=now)
        elif policy.smtp_url is None:
            return ""
        else:
            await send_email(item, policy)
        return None
    except Exception as exc:  # any failure of the far side is retried
        return f"{type(exc).__name__}: {exc}"[:500]


async def _record(session: AsyncSession, item: Claimed, error: str | None, policy: Policy,
                  now: datetime) -> None:
    delivery = await session.get(Delivery, item.delivery_id)
    if delivery is None or delivery.status is not DeliveryStatus.pending:
        return
    delivery.lease_until, delivery.lease_token = None, None
    if error is None:
        delivery.status, delivery.delivered_at = DeliveryStatus.delivered, now
        delivery.attempts += 1
        return
    if error == "":
        delivery.status, delivery.last_error = DeliveryStatus.skipped, "email is not configured"
        return
    delivery.attempts += 1
    delivery.last_error = error
    retry_at = now + timedelta(seconds=backoff(delivery.attempts, policy.backoff_seconds))
    if retry_at > delivery.created_at + timedelta(hours=policy.retry_hours):
        delivery.status = DeliveryStatus.dead
        log.warning("notification_dead_lettered", delivery_id=delivery.id, error=error)
    else:
        delivery.next_attempt_at = retry_at


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, policy: Policy,
    *, clock: Clock = utcnow,
) -> int:
    """Claim, send and record one batch; how many were claimed."""
    async with sessionmaker() as session:
        items = await claim(session, now=clock(), lease_seconds=policy.lease_seconds)
    if not items:
        return 0
    errors = await asyncio.gather(*(_send(client, item, policy, clock()) for item in items))
    async with sessionmaker() as session:
        for item, error in zip(items, errors, strict=True):
            await _record(session, item, error, policy, clock())
        await session.commit()
    return len(items)


async def run_deliverer(
    sessionmaker: async_sessionmaker[AsyncSession], policy: Policy, *, stop: asyncio.Event,
    clock: Clock = utcnow, idle_seconds: float = 0.2,
) -> None:
    """Deliver until stop is set: at once while there is work, else every idle_seconds."""
    async with httpx.AsyncClient(timeout=SEND_TIMEOUT_SECONDS) as client:
        while not stop.is_set():
            claimed = 0
            try:
                claimed = await deliver_due(sessionmaker, client, policy, clock=clock)
            except Exception:
                log.exception("delivery_pass_failed")
            if claimed:
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
            except TimeoutError:
                pass
