"""Sign-in and sign-out with a cookie session (the API's credentials and limits)."""

import hashlib

from fastapi import APIRouter
from starlette.responses import Response

from app.errors import TooManyRequests, Unauthorized
from app.identity import service as identity
from app.web.page import Page, PageDep

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never //host or a scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


@router.get("/signin")
async def signin_form(page: PageDep) -> Response:
    if page.user is not None:
        return page.redirect(_safe_next(page.request.query_params.get("next")))
    return page.render("signin.html", next=_safe_next(page.request.query_params.get("next")))


@router.post("/signin")
async def signin(page: PageDep) -> Response:
    form = await page.form()
    email, password = form.get("email", "").strip(), form.get("password", "")
    target = _safe_next(form.get("next"))
    if not email or not password or len(email) > 254 or len(password) > 1024 or "\0" in email:
        return _refused(page, email, target, page.gettext("Enter your email and password."), 422)
    try:
        await _limit(page, email)
        user = await identity.authenticate(page.db, email=email, password=password,
                                           settings=page.settings)
    except TooManyRequests:
        return _refused(page, email, target,
                        page.gettext("Too many attempts: wait a moment and try again."), 429)
    except Unauthorized:
        return _refused(page, email, target, page.gettext("Wrong email or password."), 401)
    page.sign_in(user)
    return page.redirect(target)


def _refused(page: Page, email: str, target: str, error: str, status: int) -> Response:
    return page.render("signin.html", status=status, error=error, email=email, next=target)


async def _limit(page: Page, email: str) -> None:
    # The API's sign-in limit, shared with it: per account, and per client address.
    state = page.request.app.state
    limit = state.settings.login_attempts_per_minute
    key = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    await state.rate_limiter.hit("login", key, limit=limit, window_seconds=60)
    client = page.request.client.host if page.request.client else "unknown"
    await state.rate_limiter.hit("login-page-ip", client, limit=limit * 10, window_seconds=60)


@router.get("/signout")
async def signout_form(page: PageDep) -> Response:
    return page.render("signout.html")


@router.post("/signout")
async def signout(page: PageDep) -> Response:
    await page.form()
    page.sign_out()
    return page.redirect("/?notice=signed_out")
