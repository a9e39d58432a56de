"""Notifications delivered per second by the worker's delivery loop (app.notifications.delivery)
to a local webhook receiver and a local SMTP server, each its own process.

    .venv/bin/python -m bench.notify [--count 2000] [--pg postgresql://postgres@127.0.0.1:5432]

Makes a fresh PostgreSQL database (dropped at the end) or, with --sqlite, a SQLite file;
writes COUNT notifications through the outbox for an organisation with one webhook and no
user (webhook deliveries only), then COUNT for one with one user and no webhook (emails
only), and times `deliver_due` passes until every delivery is done. Prints JSON."""

import argparse
import asyncio
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

import app.models  # noqa: F401 -- every table, for the foreign keys
from app import migrate
from app.db import create_engine, create_sessionmaker
from app.identity.models import Organization, OrgKind, User
from app.notifications.delivery import Policy, deliver_due
from app.notifications.models import Delivery, DeliveryStatus, Webhook
from app.notifications.outbox import enqueue
from app.notifications.service import new_secret
from app.security import Role
from bench.stack import execute, free_port, plain_url

RECEIVER = """
import asyncio, sys
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            length = 0
            for line in head.split(b"\\r\\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 204 No Content\\r\\ncontent-length: 0\\r\\n\\r\\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()
asyncio.run(main())
"""


def _wait_port(port: int) -> None:
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


async def _seed(sessionmaker, *, count: int, hook_url: str | None, tag: str) -> None:
    async with sessionmaker() as session:
        org = Organization(name=f"bench-{tag}", kind=OrgKind.enterprise)
        session.add(org)
        await session.flush()
        if hook_url:
            session.add(Webhook(organization_id=org.id, url=hook_url, secret=new_secret(), events=[]))
        else:
            session.add(User(email=f"bench-{tag}@example.com", password_hash="-",
                             role=Role.enterprise, organization_id=org.id))
        await session.flush()
        for n in range(count):
            await enqueue(session, event_type="auction.lost", organization_id=org.id, auction_id=n,
                          dedup_key=f"bench:{tag}:{n}", payload={"title": f"Lot {n}", "paddle": "123"})
        await session.commit()


async def _drain(sessionmaker, policy: Policy) -> float:
    """Seconds until no pending delivery is left."""
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=10) as http:
        while await deliver_due(sessionmaker, http, policy):
            pass
    elapsed = time.perf_counter() - started
    async with sessionmaker() as session:
        left = await session.scalar(select(func.count()).where(
            Delivery.status != DeliveryStatus.delivered))
    assert left == 0, f"{left} deliveries not delivered"
    return elapsed


async def measure(url: str, count: int, hook_port: int, smtp_port: int) -> dict:
    engine = create_engine(url)
    try:
        sessionmaker = create_sessionmaker(engine)
        policy = Policy(smtp_url=f"smtp://127.0.0.1:{smtp_port}", smtp_from="bench@example.com",
                        backoff_seconds=1, retry_hours=24)
        await _seed(sessionmaker, count=count, hook_url=f"http://127.0.0.1:{hook_port}/", tag="hooks")
        webhook_s = await _drain(sessionmaker, policy)
        await _seed(sessionmaker, count=count, hook_url=None, tag="mail")
        email_s = await _drain(sessionmaker, policy)
    finally:
        await engine.dispose()
    return {"count": count, "database": url.split(":")[0],
            "webhooks_per_second": round(count / webhook_s, 1),
            "emails_per_second": round(count / email_s, 1)}


def run(url: str, count: int) -> dict:
    """Measure with a webhook receiver and an SMTP server (aiosmtpd's Sink), each a process."""
    hook_port, smtp_port = free_port(), free_port()
    receivers = [
        subprocess.Popen([sys.executable, "-c", RECEIVER, str(hook_port)]),
        subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}",
                          "-c", "aiosmtpd.handlers.Sink"]),
    ]
    try:
        _wait_port(hook_port)
        _wait_port(smtp_port)
        return asyncio.run(measure(url, count, hook_port, smtp_port))
    finally:
        for process in receivers:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            migrate.upgrade(url, "head")
            print(json.dumps(run(url, args.count)))
        return
    name = f"techauction_notify_{secrets.token_hex(4)}"
    execute(args.pg, f'CREATE DATABASE "{name}"')
    try:
        url = plain_url(args.pg, database=name).replace("postgresql://", "postgresql+asyncpg://", 1)
        migrate.upgrade(url, "head")
        print(json.dumps(run(url, args.count)))
    finally:
        execute(args.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
