"""Real receivers of notifications for tests: an SMTP server process (aiosmtpd, delivering
to a Maildir) and an HTTP webhook receiver that verifies Standard Webhooks signatures."""

import asyncio
import json
import mailbox
import random
import socket
import subprocess
import sys
import time
from email.message import Message
from pathlib import Path

from standardwebhooks import Webhook as Verifier

from tests.support.harness import kill_group
from tests.support.ports import HOST, free_port


class SmtpServer:
    """`python -m aiosmtpd` on a free port, storing each mail in a Maildir."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.maildir = workdir / "maildir"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> "SmtpServer":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"{HOST}:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the SMTP server did not start")

    def messages(self) -> list[Message]:
        if not self.maildir.exists():
            return []
        return list(mailbox.Maildir(self.maildir, create=False))

    def stop(self) -> None:
        kill_group(self.process)


class WebhookReceiver:
    """An HTTP server on a free port: each POST is verified with the secret and recorded
    (webhook-id, body); a bad signature is recorded as such and answered 400."""

    def __init__(self, secret: str | None = None) -> None:
        self.port = free_port()
        self.secret = secret
        self.received: list[tuple[str, dict]] = []
        self.bad_signatures = 0
        self.delay = 0.0  # each answer waits up to this many seconds (a slow receiver)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hooks"

    async def start(self) -> "WebhookReceiver":
        self._server = await asyncio.start_server(self._handle, HOST, self.port)
        return self

    async def stop(self) -> None:
        """Down: the port refuses connections until start() again."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def ids(self) -> set[str]:
        return {msg_id for msg_id, _ in self.received}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, v in
                       (line.split(":", 1) for line in lines[1:] if ":" in line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            await asyncio.sleep(random.uniform(0, self.delay))
            try:
                Verifier(self.secret).verify(body, headers)
            except Exception:
                self.bad_signatures += 1
                status = b"400 Bad Request"
            else:
                self.received.append((headers["webhook-id"], json.loads(body)))
                status = b"204 No Content"
            writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
