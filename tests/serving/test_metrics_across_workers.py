"""`techauction serve --workers 2`: GET /metrics counts the requests of both workers, whichever
of them answers it."""

import asyncio
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TEST_METRICS_TOKEN
from tests.support.harness import Rig

MAX_ROUNDS = 40  # of 50 concurrent requests: until both workers have served some


def healthz_count(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "techauction_http_requests_total"
        and sample.labels == {"method": "GET", "route": "/healthz", "status": "200"}
    )


def worker_files(var_dir: Path) -> set[str]:
    """The pids that wrote samples (prometheus_client names its files <kind>_<pid>.db)."""
    return {path.stem.rsplit("_", 1)[1] for path in var_dir.glob("prometheus-*/*.db")}


async def test_metrics_sum_the_requests_of_all_workers(rig: Rig, tmp_path: Path) -> None:
    rig.start_redis(aof=False)
    (api,) = rig.start_apis(1, workers=2)
    # A new connection per request: the kernel hands each to whichever worker accepts first.
    async with httpx.AsyncClient(base_url=api.url, timeout=10,
                                 headers={"Authorization": f"Bearer {TEST_METRICS_TOKEN}"},
                                 limits=httpx.Limits(max_keepalive_connections=0)) as client:
        sent = healthz_count((await client.get("/metrics")).text)  # start-up's health checks
        for _ in range(MAX_ROUNDS):
            answers = await asyncio.gather(*(client.get("/healthz") for _ in range(50)))
            assert {a.status_code for a in answers} == {200}
            sent += len(answers)
            if len(worker_files(tmp_path / "var")) >= 2:
                break
        assert len(worker_files(tmp_path / "var")) >= 2, "one worker served every request"

        scrapes = [await client.get("/metrics") for _ in range(20)]

    assert {s.status_code for s in scrapes} == {200}
    assert {healthz_count(s.text) for s in scrapes} == {sent}
