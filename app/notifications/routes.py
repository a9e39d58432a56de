"""Notification endpoints: the caller's inbox and language, organisations' webhooks, and
the admin's dead letters."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.db import SessionDep
from app.notifications import service
from app.notifications.schemas import (
    DeliveryOut,
    InboxItemOut,
    PreferencesIn,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from app.pagination import PageDep
from app.schemas import MAX_DB_ID, IdPath, NoBody, Page
from app.security import AdminUser, CurrentUser

router = APIRouter(tags=["notifications"])
OrgPath = Annotated[int, Path(ge=1, le=MAX_DB_ID)]


@router.get("/me/notifications", response_model=Page[InboxItemOut])
async def inbox(
    session: SessionDep, principal: CurrentUser, page: PageDep,
    unread: Annotated[bool, Query(description="only the unread ones")] = False,
):
    """The caller's notifications, newest first, in his language."""
    items, cursor = await service.inbox(session, principal=principal, page=page, unread=unread)
    return Page(items=items, next_cursor=cursor)


@router.post("/me/notifications/{item_id}/read", status_code=204)
async def mark_read(session: SessionDep, principal: CurrentUser, item_id: IdPath,
                    body: NoBody = None) -> Response:
    """Mark one of the caller's notifications read."""
    await service.mark_read(session, principal=principal, item_id=item_id)
    return Response(status_code=204)


@router.post("/me/notifications/read", status_code=204)
async def mark_all_read(session: SessionDep, principal: CurrentUser, body: NoBody = None) -> Response:
    """Mark every notification of the caller read."""
    await service.mark_read(session, principal=principal, item_id=None)
    return Response(status_code=204)


@router.put("/me/preferences", status_code=204)
async def set_preferences(session: SessionDep, principal: CurrentUser, data: PreferencesIn) -> Response:
    """The caller's notification language (zh or en)."""
    await service.set_language(session, principal=principal, language=data.language)
    return Response(status_code=204)


@router.post("/organizations/{organization_id}/webhooks", status_code=201, response_model=WebhookCreated)
async def create_webhook(session: SessionDep, principal: CurrentUser, organization_id: OrgPath,
                         data: WebhookIn) -> WebhookCreated:
    """Register a webhook (a user of the organisation, or admin); the secret signs every
    delivery per Standard Webhooks and is shown only here."""
    hook = await service.create_webhook(session, principal=principal,
                                        organization_id=organization_id, data=data)
    return WebhookCreated.model_validate(hook)


@router.get("/organizations/{organization_id}/webhooks", response_model=list[WebhookOut])
async def list_webhooks(session: SessionDep, principal: CurrentUser, organization_id: OrgPath):
    """The organisation's active webhooks (secrets not shown)."""
    return await service.list_webhooks(session, principal=principal, organization_id=organization_id)


@router.delete("/organizations/{organization_id}/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(session: SessionDep, principal: CurrentUser, organization_id: OrgPath,
                         webhook_id: IdPath) -> Response:
    """Stop a webhook: nothing more is queued for it."""
    await service.delete_webhook(session, principal=principal, organization_id=organization_id,
                                 webhook_id=webhook_id)
    return Response(status_code=204)


@router.get("/notifications/dead-letters", response_model=Page[DeliveryOut])
async def dead_letters(session: SessionDep, admin: AdminUser, page: PageDep):
    """Deliveries given up after retrying for the whole window (admin)."""
    items, cursor = await service.dead_letters(session, page=page)
    return Page(items=items, next_cursor=cursor)


@router.post("/notifications/dead-letters/{delivery_id}/redeliver", response_model=DeliveryOut)
async def redeliver(session: SessionDep, admin: AdminUser, delivery_id: IdPath,
                    body: NoBody = None) -> DeliveryOut:
    """Queue a dead letter again with a fresh retry window (admin)."""
    return await service.redeliver(session, principal=admin, delivery_id=delivery_id)
