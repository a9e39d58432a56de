"""A console action: one service call in a savepoint, answered as the API would refuse it.

A refusal the API answers 404 or 403 (not there, not yours, not your role) is a 404 or 403
page; any other refusal (a state that moved on, a rule) goes back with its message.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response

from app.errors import AppError, Forbidden, NotFound
from app.security import Role
from app.web.messages import message
from app.web.page import Page, PageError


def require(page: Page, *roles: Role) -> None:
    """401 when signed out, 403 unless the user has one of the roles (as the API's guards)."""
    if page.user is None:
        raise PageError(401, page.gettext("Sign in first."))
    if page.user.role not in roles:
        raise PageError(403, page.gettext(message("forbidden_role")))


def refusal(page: Page, exc: AppError) -> PageError:
    return PageError(exc.status, page.gettext(message(exc.code)))


async def act(page: Page, call: Callable[[], Awaitable[Any]], *, notice: str,
              back: str = "/console") -> Response:
    """Run call in a savepoint; redirect back with the notice, or with the refusal's code."""
    try:
        async with page.changes():
            await call()
    except (NotFound, Forbidden) as exc:
        raise refusal(page, exc) from exc
    except AppError as exc:
        return page.redirect(f"{back}?error={exc.code}")
    return page.redirect(f"{back}?notice={notice}")
