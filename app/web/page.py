"""The page context of a request: language, page session, the signed-in user, rendering."""

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app.db import SessionDep
from app.identity.models import User
from app.security import Principal
from app.settings import Settings
from app.web import i18n, sessions
from app.web.sessions import PageSession

ROOT = Path(__file__).parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
# Our own pages fetch nothing from another origin, and run no inline script.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class PageError(Exception):
    """A page answer other than 200: rendered as the error page in the viewer's language."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@lru_cache
def environment(lang: str) -> Environment:
    """The Jinja2 environment of one language (gettext installed from its catalog)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)
    env.globals["static"] = static_url
    env.filters["iso"] = i18n.iso
    return env


@lru_cache(maxsize=64)
def static_url(name: str) -> str:
    """The URL of a static file with a digest of its content (cached for good by browsers)."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


@dataclass
class Page:
    """What a page route needs: who is asking, in which language, and how to answer."""

    request: Request
    db: AsyncSession
    settings: Settings
    lang: str
    session: PageSession
    user: User | None
    remember_lang: bool
    extra_cookies: list[tuple[str, str]] = field(default_factory=list)

    @property
    def principal(self) -> Principal | None:
        if self.user is None:
            return None
        return Principal(user_id=self.user.id, role=self.user.role,
                         organization_id=self.user.organization_id)

    @property
    def fmt(self) -> i18n.Formatter:
        return i18n.formatter(self.lang)

    def gettext(self, message: str, **values: Any) -> str:
        text = i18n.translations(self.lang).gettext(message)
        return text % values if values else text

    @property
    def csrf_token(self) -> str:
        return sessions.csrf_token(self.settings, self.session)

    def url_with_lang(self, lang: str) -> str:
        query = dict(self.request.query_params) | {"lang": lang}
        return f"{self.request.url.path}?{urlencode(query)}"

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        env = environment(self.lang)
        html = env.get_template(template).render(
            page=self, user=self.user, lang=self.lang, html_lang=i18n.LANGUAGES[self.lang][1],
            fmt=self.fmt, csrf_token=self.csrf_token, **context,
        )
        response = HTMLResponse(html, status_code=status)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Cache-Control"] = "no-store"
        return self.finish(response)

    def redirect(self, url: str) -> RedirectResponse:
        return self.finish(RedirectResponse(url, status_code=303))

    def finish(self, response: Response) -> Response:
        """Set the cookies this request decided on (a new session, the chosen language)."""
        if self.session.fresh:
            sessions.write(response, self.session, self.settings)
        if self.remember_lang:
            response.set_cookie(i18n.LANG_COOKIE, self.lang, max_age=365 * 86400,
                                samesite="lax", httponly=True, path="/")
        return response

    def sign_in(self, user: User) -> None:
        self.session = sessions.new_session(user.id, sessions.token_version(user))
        self.user = user

    def sign_out(self) -> None:
        self.session = sessions.new_session()
        self.user = None

    @asynccontextmanager
    async def changes(self) -> AsyncIterator[None]:
        """A savepoint around a service call: refused, it leaves nothing to commit."""
        async with self.db.begin_nested():
            yield

    async def form(self) -> dict[str, str]:
        """The posted form, once its CSRF token and origin are checked (403 otherwise)."""
        form = await self.request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        submitted = values.get("csrf_token") or self.request.headers.get("x-csrf-token")
        if not sessions.csrf_valid(self.request, self.settings, self.session, submitted):
            raise PageError(403, self.gettext("This form has expired or came from another site. "
                                              "Reload the page and try again."))
        return values


async def _current_user(db: AsyncSession, session: PageSession | None) -> User | None:
    if session is None or session.user_id is None:
        return None
    user = await db.get(User, session.user_id)
    if user is None or not user.is_active or sessions.token_version(user) != session.version:
        return None  # revoked: the account changed since this session began
    return user


async def get_page(request: Request, db: SessionDep) -> Page:
    settings: Settings = request.app.state.settings
    query_lang = request.query_params.get("lang")
    lang = i18n.pick(query_lang, request.cookies.get(i18n.LANG_COOKIE),
                     request.headers.get("accept-language"))
    session = sessions.read(request, settings)
    user = await _current_user(db, session)
    if session is None or (session.user_id is not None and user is None):
        session = sessions.new_session()
    remember = query_lang in i18n.LANGUAGES and query_lang != request.cookies.get(i18n.LANG_COOKIE)
    return Page(request=request, db=db, settings=settings, lang=lang, session=session, user=user,
                remember_lang=remember)


PageDep = Annotated[Page, Depends(get_page)]
