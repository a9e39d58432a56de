"""Exports stream in constant memory: ten times the settlements pass through the API process
with the same peak of traced memory, far below the size of the export."""

import asyncio
import gc
import hashlib
import time
import tracemalloc

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.export import seed

SMALL, BIG = 5_000, 50_000
PATH = "/api/v1/exports/settlements"


async def _stream(app, query: str, headers: dict[str, str]) -> dict:
    """One GET straight through the ASGI app; the body is hashed and dropped as it arrives."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": PATH, "raw_path": PATH.encode(), "query_string": query.encode(),
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver")] + [
            (k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    requested = False
    seen = {"status": None, "headers": {}, "bytes": 0, "sha256": hashlib.sha256(), "chunks": 0}

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never goes away

    async def send(message):
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
            seen["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            seen["bytes"] += len(message.get("body", b""))
            seen["sha256"].update(message.get("body", b""))
            seen["chunks"] += 1

    await app(scope, receive, send)
    return seen


async def _traced_export(app, headers) -> tuple[dict, int]:
    """The whole export streamed; returns what was seen and the traced peak above baseline."""
    gc.collect()
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        seen = await _stream(app, "format=csv", headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen["status"] == 200
    return seen, peak - baseline


async def _wipe_bulk(database_url: str) -> None:
    """Remove the bulk rows quickly: SQLite checks each deleted parent against unindexed child
    columns, so the suite's row-by-row wipe would take minutes; without the FK pragma it won't."""
    if not database_url.startswith("sqlite"):
        return  # the suite's TRUNCATE is fast
    engine = create_async_engine(database_url)  # no foreign_keys=ON on these connections
    try:
        async with engine.begin() as conn:
            for table in ("settlements", "registrations", "auctions", "listings"):
                await conn.execute(text(f"DELETE FROM {table}"))
    finally:
        await engine.dispose()


async def test_big_export_streams_in_constant_memory(app, client, auditor, database_url):
    try:
        async with app.state.db_engine.begin() as conn:
            await seed(conn, SMALL)
        await _stream(app, "format=csv&institute=1", auditor.headers)  # warm: imports, caches
        small, small_peak = await _traced_export(app, auditor.headers)
        async with app.state.db_engine.begin() as conn:
            await seed(conn, BIG - SMALL)
        started = time.perf_counter()
        big, big_peak = await _traced_export(app, auditor.headers)
        elapsed = time.perf_counter() - started
        print(f"\n{SMALL} rows: peak {small_peak / 2**20:.2f} MB; {BIG} rows, "
              f"{big['bytes'] / 2**20:.1f} MB in {big['chunks']} chunks, {elapsed:.1f} s: "
              f"peak {big_peak / 2**20:.2f} MB")
        assert big["chunks"] > 20  # really streamed, not one body
        assert big_peak < small_peak * 1.5 + 256 * 1024  # 10x the rows, about the same peak
        assert big_peak < big["bytes"] / 5, f"held {big_peak} bytes of a {big['bytes']}-byte export"
        manifest = await client.get(f"/api/v1/exports/{big['headers']['x-export-id']}/manifest",
                                    headers=auditor.headers)
        assert manifest.json()["row_count"] == BIG
        assert manifest.json()["sha256"] == big["sha256"].hexdigest()
        assert small["bytes"] < big["bytes"] / 9
    finally:
        await _wipe_bulk(database_url)
