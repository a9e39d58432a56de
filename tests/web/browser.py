"""Headless Debian chromium driven by Playwright, for the end-to-end page tests.

Playwright's own browser download is never used: the tests launch /usr/bin/chromium
(scripts/install-browser.sh installs it; `make test` and .ci/run call that script). Without
it the browser tests are skipped on a developer's machine, and fail in CI (CI=true).
"""

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("TECHAUCTION_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def require_chromium() -> None:
    """Skip (fail in CI) when the browser or Playwright is missing."""
    missing = None
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing = f"{CHROMIUM} is not installed (run scripts/install-browser.sh)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed (make install)"
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run in CI: {missing}")
    pytest.skip(missing)


@asynccontextmanager
async def chromium() -> AsyncIterator:
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


class Hosts:
    """Every host a browser context requested, to check that all are the test server."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def watch(self, context) -> None:
        context.on("request", lambda request: self.seen.add(_host(request.url)))

    def assert_only(self, base_url: str) -> None:
        assert self.seen, "no request was recorded"
        assert self.seen == {urlsplit(base_url).netloc}, self.seen


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc if parts.scheme in ("http", "https", "ws", "wss") else parts.scheme
