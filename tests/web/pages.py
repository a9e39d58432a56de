"""Helpers for page tests: sign in through the form, read CSRF tokens from pages."""

import re

import httpx

from tests.support.actors import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def page_client(app) -> httpx.AsyncClient:
    """A cookie-keeping browser-like client of the app over ASGI."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                             headers={"Accept-Language": "en"})


async def sign_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    form = await http.get("/signin")
    assert form.status_code == 200, form.text
    response = await http.post("/signin", data={
        "email": email, "password": password, "csrf_token": csrf_of(form.text), "next": "/console"})
    return response
