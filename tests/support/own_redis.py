"""A redis-server of a test's own, to kill (-9) and start again on the same port and --dir."""

import contextlib
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings
from tests.support.actors import Actor, Actors
from tests.support.auctions import approved_listing, create_auction
from tests.support.live import enterprises, qualify_all
from tests.support.ports import free_port


class RedisServer:
    """A redis-server of this test's own on a free loopback port, every write fsynced."""

    def __init__(self, directory: Path) -> None:
        self.dir, self.port = directory, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_timeout=1)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Lot:
    """An app on a Redis of the test's own, its client, and a lot two bidders may bid in."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    auction_id: int
    alice: Actor
    bob: Actor


@contextlib.asynccontextmanager
async def lot_on(settings: Settings, server: RedisServer) -> AsyncIterator[Lot]:
    """An app (lifespan running) on the server's Redis, with a 60 s lot, alice and bob qualified."""
    settings = settings.model_copy(update={"redis_url": server.url})
    app = create_app(settings)
    async with (LifespanManager(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                  base_url="http://testserver") as client):
        actors = await Actors.bootstrap(app=app, client=client, settings=settings)
        alice, bob = await enterprises(actors, 2)
        auction = await create_auction(actors, listing_id=await approved_listing(actors), lasts=60)
        await qualify_all(client, actors.admin, auction["id"], [alice, bob])
        yield Lot(app, client, settings, auction["id"], alice, bob)
