"""`python -m bench.documents`: lot-document upload and download throughput per store.

For each configuration it serves the real app (`techauction serve`, one worker) on a free
loopback port: "files" (bytes under var_dir, SQLite: the embedded default), "files" with
PostgreSQL, and "database" (bytes as 1 MB rows in PostgreSQL: a production option). Through the
API it makes an admin, an institute and a draft listing, then uploads and downloads
--size-mb files of random bytes behind a PDF header, --reps times each, and reports the
median MB/s and the server process's peak RSS (VmHWM), which shows the body is streamed, not
held. The PostgreSQL database is made fresh on the server of TECHAUCTION_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test) and dropped at the end. Writes a dated JSON result
under bench/results/ with --save.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.stack import free_port, techauction_command

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-documents-passw0rd-1907"
RESULTS = Path(__file__).parent / "results"


def payload(size_mb: int) -> bytes:
    """A PDF header, then random bytes (incompressible, as scanned documents nearly are)."""
    return b"%PDF-1.7\n" + secrets.token_bytes(size_mb * 2**20 - 9)


async def _admin_sql(server: str, statement: str) -> None:
    engine = create_async_engine(make_url(server).set(drivername="postgresql+asyncpg", database="postgres"),
                                 isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _status_mb(pid: int, key: str) -> float:
    """VmHWM (peak resident set) or VmRSS of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Served:
    """The app served on a free port with the given settings, until closed."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.env = os.environ | env | {"TECHAUCTION_VAR_DIR": str(workdir / "var"), "TECHAUCTION_ENV": "test",
                                       "TECHAUCTION_JWT_SECRET": secrets.token_urlsafe(48)}
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def run(self, *args: str) -> None:
        subprocess.run([*techauction_command(), *args], env=self.env, check=True, capture_output=True)

    def start(self) -> None:
        self.run("migrate")
        self.run("create-admin", "--email", "admin@bench.example", "--password", PASSWORD)
        self.process = subprocess.Popen(
            [*techauction_command(), "serve", "--port", str(self.port), "--no-access-log"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("the server did not become ready in 60 s")

    def server_pid(self) -> int:
        """The serving process: with one worker, `serve` runs uvicorn in its own process (its
        child, if any, is the embedded Redis)."""
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


async def _token(http: httpx.AsyncClient, email: str) -> dict:
    response = await http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _listing(http: httpx.AsyncClient) -> tuple[dict, int]:
    admin = await _token(http, "admin@bench.example")
    org = await http.post("/api/v1/organizations", json={"name": "Bench institute", "kind": "institute"},
                          headers=admin)
    user = {"email": "institute@bench.example", "password": PASSWORD, "role": "institute",
            "organization_id": org.json()["id"]}
    (await http.post("/api/v1/users", json=user, headers=admin)).raise_for_status()
    institute = await _token(http, user["email"])
    listing = await http.post("/api/v1/listings", headers=institute, json={
        "title": "Medium-power new-energy simulation test platform", "summary": "Bench.",
        "field": "new_energy", "ip_type": "patent", "patent_numbers": [], "trl": 6,
        "transfer_mode": "assignment", "starting_price": "2000000.00"})
    listing.raise_for_status()
    return institute, listing.json()["id"]


async def measure(served: Served, size_mb: int, reps: int) -> dict:
    """Median upload and download MB/s, each transfer's digest checked."""
    async with httpx.AsyncClient(base_url=served.url, timeout=300) as http:
        headers, listing_id = await _listing(http)
        peak_before = _status_mb(served.server_pid(), "VmHWM")
        uploads, downloads = [], []
        for _ in range(reps):
            data = payload(size_mb)
            digest = hashlib.sha256(data).hexdigest()
            started = time.perf_counter()
            done = await http.post(f"/api/v1/listings/{listing_id}/documents", headers=headers,
                                   files={"file": ("bench.pdf", data, "application/pdf")})
            uploads.append(time.perf_counter() - started)
            assert done.status_code == 201 and done.json()["sha256"] == digest, done.text
            started = time.perf_counter()
            got = hashlib.sha256()
            async with http.stream("GET", f"/api/v1/documents/{done.json()['id']}", headers=headers) as r:
                async for chunk in r.aiter_bytes():
                    got.update(chunk)
            downloads.append(time.perf_counter() - started)
            assert got.hexdigest() == digest
    up, down = statistics.median(uploads), statistics.median(downloads)
    return {"upload_mb_s": round(size_mb / up, 1), "download_mb_s": round(size_mb / down, 1),
            "upload_s_runs": [round(s, 3) for s in uploads],
            "download_s_runs": [round(s, 3) for s in downloads],
            "server_peak_rss_before_mb": round(peak_before, 1),
            "server_peak_rss_mb": round(_status_mb(served.server_pid(), "VmHWM"), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=20, help="size of each document")
    parser.add_argument("--reps", type=int, default=5, help="uploads and downloads (medians reported)")
    parser.add_argument("--save", action="store_true", help="write bench/results/<date>-documents.json")
    args = parser.parse_args()
    server = os.environ.get("TECHAUCTION_DATABASE_URL") or DEFAULT_SERVER
    redis = os.environ.get("TECHAUCTION_REDIS_URL")
    started = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    results = {}
    for name, store, on_pg in (("files_sqlite", "files", False), ("files_postgresql", "files", True),
                               ("database_postgresql", "database", True)):
        database = f"techauction_bench_docs_{uuid.uuid4().hex[:8]}"
        env = {"TECHAUCTION_DOCUMENT_STORE": store, "TECHAUCTION_REDIS_PREFIX": database}
        if redis:
            env["TECHAUCTION_REDIS_URL"] = redis
        if on_pg:
            asyncio.run(_admin_sql(server, f'CREATE DATABASE "{database}"'))
            env["TECHAUCTION_DATABASE_URL"] = make_url(server).set(database=database).render_as_string(
                hide_password=False)
        with tempfile.TemporaryDirectory(prefix="bench-documents-", ignore_cleanup_errors=True) as tmp:
            served = Served(env, Path(tmp))
            try:
                served.start()
                results[name] = asyncio.run(measure(served, args.size_mb, args.reps))
            finally:
                served.stop()
                if on_pg:
                    asyncio.run(_admin_sql(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        row = results[name]
        print(f"{name:<22} upload {row['upload_mb_s']:>7.1f} MB/s  download {row['download_mb_s']:>7.1f} MB/s"
              f"  peak RSS {row['server_peak_rss_before_mb']:.0f} -> {row['server_peak_rss_mb']:.0f} MB")
    record = {"run": started.strftime("%Y-%m-%dT%H%MZ"), "date": started.isoformat(), "bench": "documents",
              "command": f"python -m bench.documents --size-mb {args.size_mb} --reps {args.reps}",
              "settings": {"size_mb": args.size_mb, "reps": args.reps, "cpus": os.cpu_count()},
              "host": {"load_average_before": load_before}, "scenarios": results}
    if args.save:
        path = RESULTS / f"{record['run']}-documents.json"
        path.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
