"""`techauction worker` on the embedded default (no TECHAUCTION_REDIS_URL): it finds the
embedded Redis the API runs under the var dir and closes due auctions through it; with none
running, it starts one itself and stops it on exit."""

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest

from app.redis import EmbeddedRedis
from tests.conftest import TEST_JWT_SECRET
from tests.support.auctions import API, create_auction
from tests.support.harness import TECHAUCTION, kill_group
from tests.support.live import ms, sleep_until
from tests.support.waits import wait_for


@pytest.fixture
def settings(settings):
    """The API on the embedded Redis under its var dir (as `serve` with no Redis URL), its
    closer left to the worker."""
    return settings.model_copy(update={"redis_url": None, "closer_in_api": False})


def spawn_worker(settings, var_dir: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TECHAUCTION_")}
    env |= {"TECHAUCTION_DATABASE_URL": settings.database_url, "TECHAUCTION_ENV": "test",
            "TECHAUCTION_VAR_DIR": str(var_dir), "TECHAUCTION_REDIS_PREFIX": settings.redis_prefix,
            "TECHAUCTION_JWT_SECRET": TEST_JWT_SECRET, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        return subprocess.Popen([TECHAUCTION, "worker"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=var_dir.parent)


def stopped(worker: subprocess.Popen) -> int:
    worker.send_signal(signal.SIGTERM)
    return worker.wait(timeout=20)


async def test_worker_closes_due_auction_on_the_apis_embedded_redis(app, actors, client, settings,
                                                                    tmp_path):
    assert app.state.settings.redis_url is None
    auction = await create_auction(actors, starts_in=0, lasts=1.5)
    worker = spawn_worker(settings, settings.var_dir.resolve(), tmp_path / "worker.log")
    try:
        await sleep_until(client, auction["id"], ms(auction["ends_at"]))
        for _ in range(200):
            result = await client.get(f"{API}/auctions/{auction['id']}/result")
            if result.status_code == 200:
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            await asyncio.sleep(0.1)
        assert result.status_code == 200, (tmp_path / "worker.log").read_text()
        assert result.json()["outcome"] == "unsold"
        assert stopped(worker) == 0
        # serve's embedded Redis is left running: the worker did not start it
        assert EmbeddedRedis(settings.var_dir)._alive()
    finally:
        kill_group(worker)


def test_worker_starts_the_embedded_redis_when_none_runs(settings, tmp_path):
    var_dir = (tmp_path / "own-var").resolve()
    embedded = EmbeddedRedis(var_dir)
    worker = spawn_worker(settings, var_dir, tmp_path / "worker.log")
    try:
        log = tmp_path / "worker.log"
        wait_for(lambda: "closing due rounds" in log.read_text(), 30, "the worker's start", worker)
        assert "embedded Redis on unix://" in log.read_text() and embedded._alive()
        assert stopped(worker) == 0, (tmp_path / "worker.log").read_text()
        assert not embedded._alive()
    finally:
        kill_group(worker)
