"""Receivers the notification tests deliver to: a real SMTP server process and an HTTP
webhook receiver verifying signatures (both stopped after the test)."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.receivers import SmtpServer, WebhookReceiver


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hooks = await WebhookReceiver().start()
    try:
        yield hooks
    finally:
        await hooks.stop()
