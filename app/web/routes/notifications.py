"""`/console/notifications` (the inbox), `/console/webhooks` (an organisation's webhooks) and
the room's watch button: the notification services behind pages."""

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import Response

from app.auctions import service as auctions
from app.errors import AppError
from app.notifications import service, watches
from app.notifications.render import EVENT_TYPES
from app.notifications.schemas import WebhookIn
from app.pagination import PageParams
from app.schemas import IdPath
from app.security import Role
from app.web.actions import act, require
from app.web.messages import message
from app.web.page import Page, PageDep

router = APIRouter(include_in_schema=False)
INBOX_PAGE = 100


@router.get("/console/notifications")
async def inbox(page: PageDep) -> Response:
    if page.user is None:
        return page.redirect("/signin?next=/console/notifications")
    items, _ = await service.inbox(page.db, principal=page.principal,
                                   page=PageParams(limit=INBOX_PAGE, after_id=None), language=page.lang)
    return page.render("console/notifications.html", items=items,
                       notice=message(page.request.query_params.get("notice")))


@router.post("/console/notifications/read")
async def mark_all_read(page: PageDep) -> Response:
    await page.form()
    require(page, *Role)
    await service.mark_read(page.db, principal=page.principal, item_id=None)
    return page.redirect("/console/notifications?notice=notifications_read")


def _org_member(page: Page) -> int:
    require(page, Role.enterprise, Role.institute)
    return page.user.organization_id


@router.get("/console/webhooks")
async def webhooks(page: PageDep, secret: str | None = None) -> Response:
    if page.user is None:
        return page.redirect("/signin?next=/console/webhooks")
    org = _org_member(page)
    hooks = await service.list_webhooks(page.db, principal=page.principal, organization_id=org)
    query = page.request.query_params
    return page.render("console/webhooks.html", hooks=hooks, event_types=EVENT_TYPES, secret=secret,
                       notice=message(query.get("notice")), error=message(query.get("error")))


@router.post("/console/webhooks")
async def add_webhook(page: PageDep) -> Response:
    form = await page.form()
    org = _org_member(page)
    events = [t for t in EVENT_TYPES if form.get(f"event-{t}")]
    try:
        data = WebhookIn.model_validate({"url": form.get("url", ""), "events": events})
    except ValidationError:
        return page.redirect("/console/webhooks?error=invalid_webhook_url")
    hook = await service.create_webhook(page.db, principal=page.principal, organization_id=org, data=data)
    # the secret is shown once, on this answer only (never in a URL)
    return await webhooks(page, secret=hook.secret)


@router.post("/console/webhooks/{webhook_id}/delete")
async def delete_webhook(page: PageDep, webhook_id: IdPath) -> Response:
    await page.form()
    org = _org_member(page)
    return await act(page, lambda: service.delete_webhook(
        page.db, principal=page.principal, organization_id=org, webhook_id=webhook_id),
        notice="webhook_deleted", back="/console/webhooks")


@router.post("/auctions/{auction_id}/watch")
async def watch(page: PageDep, auction_id: IdPath) -> Response:
    form = await page.form()
    require(page, *Role)
    try:
        await auctions.get_auction(page.db, auction_id=auction_id, principal=page.principal)
    except AppError as exc:
        return page.redirect(f"/auctions/{auction_id}?error={exc.code}")
    if form.get("stop"):
        await watches.unwatch(page.db, user_id=page.user.id, auction_id=auction_id)
        return page.redirect(f"/auctions/{auction_id}?notice=unwatched")
    await watches.watch(page.db, user_id=page.user.id, auction_id=auction_id)
    return page.redirect(f"/auctions/{auction_id}?notice=watching")
