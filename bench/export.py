"""`python -m bench.export`: export 1,000,000 settlements as CSV, timed, with the peak RSS.

Creates a fresh PostgreSQL database on the server of TECHAUCTION_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test), migrates it, bulk-inserts the settlements with
their auctions, lots, organisations and registrations in a few INSERT ... SELECT statements,
then runs `techauction export --format csv` (the CLI code path) as a child process and reports
rows/s and the child's peak RSS (getrusage RUSAGE_CHILDREN). The database is dropped at the end.

`seed()` is also what the tests use to make many settlements fast (SQLite or PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_ROWS_PER_S = 100_000
TARGET_PEAK_MB = 200
STATUSES = ("pending_payment", "paid", "completed", "defaulted")
BUYERS = 4


@dataclass(frozen=True)
class Seeded:
    """What seed() made: settlement ids first_id..first_id+rows-1, created start + i*step."""

    rows: int
    first_id: int
    institute_ids: tuple[int, ...]
    buyer_ids: tuple[int, ...]
    start: datetime
    step_ms: int


class _Sql:
    """The few expressions that differ between PostgreSQL and SQLite."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def series(self, body: str) -> str:
        """body (which reads s.i for i in 1..:n) over a generated series."""
        if self.pg:
            return body.replace("{FROM}", "FROM generate_series(1, CAST(:n AS BIGINT)) AS s(i)")
        cte = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
        return cte + body.replace("{FROM}", "FROM s")

    def money(self, cents: str) -> str:
        return f"CAST(({cents}) AS NUMERIC) / 100" if self.pg else f"({cents})"

    def timestamp(self, ms: str) -> str:
        """A stored timestamp at epoch milliseconds ms (SQLite keeps SQLAlchemy's text form)."""
        if self.pg:
            return f"(TIMESTAMPTZ 'epoch' + ({ms}) * INTERVAL '1 millisecond')"
        return (f"(strftime('%Y-%m-%d %H:%M:%S', ({ms}) / 1000, 'unixepoch') || '.' || "
                f"printf('%03d', ({ms}) % 1000) || '000')")

    def date(self, days: str) -> str:
        if self.pg:
            return f"(DATE '2027-01-01' + CAST({days} AS INTEGER))"
        return f"date('2027-01-01', '+' || ({days}) || ' days')"

    def hex64(self, value: str) -> str:
        return f"lpad(to_hex({value}), 64, '0')" if self.pg else f"printf('%064x', {value})"

    def json(self, literal: str) -> str:
        return f"CAST('{literal}' AS JSON)" if self.pg else f"'{literal}'"


async def _next_id(conn: AsyncConnection, table: str) -> int:
    return int(await conn.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))) + 1


async def seed(
    conn: AsyncConnection, rows: int, *, start: datetime | None = None, step_ms: int = 1000,
    institutes: int = 3,
) -> Seeded:
    """rows settlements (two per auction: winner and second chance) with everything they need."""
    sql = _Sql(conn.dialect.name)
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    start_ms = int(start.timestamp() * 1000)
    token = uuid.uuid4().hex[:8]
    ids = {t: await _next_id(conn, t) for t in (
        "organizations", "users", "listings", "auctions", "registrations", "settlements")}
    now = {"now": datetime.now(UTC)}
    org, user = ids["organizations"], ids["users"]
    kinds = ["institute"] * institutes + ["enterprise"] * BUYERS
    for offset, kind in enumerate(kinds):
        await conn.execute(text(
            "INSERT INTO organizations (id, name, kind, created_at, updated_at) "
            "VALUES (:id, :name, :kind, :now, :now)"
        ), {"id": org + offset, "name": f"Bulk {kind} {offset} {token}", "kind": kind} | now)
    await conn.execute(text(
        "INSERT INTO users (id, email, password_hash, role, organization_id, is_active, created_at,"
        " updated_at) VALUES (:id, :email, 'x', 'admin', NULL, :yes, :now, :now)"
    ), {"id": user, "email": f"bulk-{token}@example.com", "yes": True} | now)
    auctions = (rows + 1) // 2
    created = sql.timestamp(f"CAST(:start_ms AS BIGINT) + s.i * {step_ms}")
    params = {"org": org, "k": institutes, "user": user, "start_ms": start_ms, **ids}
    statements = [
        (auctions, f"""INSERT INTO listings (id, organization_id, created_by_id, title, summary, field,
            ip_type, patent_numbers, trl, transfer_mode, starting_price, currency, status, created_at,
            updated_at) SELECT :listings - 1 + s.i, :org + s.i % :k, :user, 'Bulk outcome ' || s.i,
            'Bulk summary', 'new_energy', 'patent', {sql.json('[]')}, 6, 'assignment',
            {sql.money('10000000')}, 'CNY', 'sold', {created}, {created} {{FROM}}"""),
        (auctions, f"""INSERT INTO auctions (id, listing_id, created_by_id, status, currency,
            starting_price, bid_increment, deposit_amount, window_seconds, extension_seconds,
            buyer_premium_rate, seller_commission_rate, payment_days, outcome, hammer_price,
            closed_at, created_at, updated_at) SELECT :auctions - 1 + s.i, :listings - 1 + s.i,
            :user, 'closed', 'CNY', {sql.money('10000000')}, {sql.money('100000')},
            {sql.money('1000000')}, 0, 0, 0.05, 0.03, 30, 'sold', {sql.money('10000000 + s.i')},
            {created}, {created}, {created} {{FROM}}"""),
        (rows, f"""INSERT INTO registrations (id, auction_id, organization_id, applicant_id, status,
            paddle, deposit_status, created_at, updated_at) SELECT :registrations - 1 + s.i,
            :auctions - 1 + (s.i + 1) / 2, :org + :k + s.i % {BUYERS}, :user, 'qualified',
            'P' || s.i, 'held', {created}, {created} {{FROM}}"""),
        (rows, f"""INSERT INTO settlements (id, auction_id, attempt, listing_id,
            institute_organization_id, buyer_organization_id, registration_id, paddle, currency,
            hammer_price, buyer_premium_rate, buyer_premium, seller_commission_rate,
            seller_commission, deposit_applied, amount_due, due_date, status, bid_count,
            bid_trail_sha256, second_chance_of_id, created_at, updated_at)
            SELECT :settlements - 1 + s.i, :auctions - 1 + (s.i + 1) / 2, 2 - s.i % 2,
            :listings - 1 + (s.i + 1) / 2, :org + ((s.i + 1) / 2) % :k, :org + :k + s.i % {BUYERS},
            :registrations - 1 + s.i, 'P' || s.i, 'CNY', {sql.money('10000000 + s.i * 137')}, 0.05,
            {sql.money('(10000000 + s.i * 137) * 5 / 100')}, 0.03,
            {sql.money('(10000000 + s.i * 137) * 3 / 100')}, {sql.money('1000000')},
            {sql.money('(10000000 + s.i * 137) * 105 / 100 - 1000000')}, {sql.date('s.i % 28')},
            CASE s.i % 4 WHEN 0 THEN 'pending_payment' WHEN 1 THEN 'paid' WHEN 2 THEN 'completed'
            ELSE 'defaulted' END, 1 + s.i % 50, {sql.hex64('s.i')},
            CASE WHEN s.i % 2 = 0 THEN :settlements - 2 + s.i END, {created}, {created} {{FROM}}"""),
    ]
    for n, body in statements:
        # Typed parameters: PostgreSQL cannot infer the type of `$1 + $2`.
        body = re.sub(r":(org|k|user|listings|auctions|registrations|settlements)\b",
                      r"CAST(:\1 AS BIGINT)", body)
        await conn.execute(text(sql.series(body)), params | {"n": n})
    if sql.pg:  # explicit ids: move the id sequences past them
        for table in ids:
            await conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
    return Seeded(
        rows=rows, first_id=ids["settlements"], start=start, step_ms=step_ms,
        institute_ids=tuple(range(org, org + institutes)),
        buyer_ids=tuple(range(org + institutes, org + institutes + BUYERS)),
    )


def _server_url() -> str:
    raw = os.environ.get("TECHAUCTION_DATABASE_URL") or DEFAULT_SERVER
    return make_url(raw).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


async def _admin(server: str, statement: str) -> None:
    engine = create_async_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _seed_database(url: str, rows: int) -> float:
    engine = create_async_engine(url)
    started = time.perf_counter()
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL synchronous_commit = off"))
            try:  # skip the per-row foreign key triggers (consistent by construction); superuser only
                async with conn.begin_nested():
                    await conn.execute(text("SET LOCAL session_replication_role = replica"))
            except Exception:  # without the privilege the checks just run
                pass
            await seed(conn, rows)
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
    return time.perf_counter() - started


def _run_export(url: str, workdir: Path) -> tuple[float, float, float, str]:
    """The CLI export as a child process: (seconds, CPU seconds, peak RSS in MB, its stderr).

    ru_maxrss of RUSAGE_CHILDREN is the largest of all children so far: the exports are the
    only children (migrations and seeding run in this process), so it is theirs."""
    output = workdir / "settlements.csv"
    env = os.environ | {
        "TECHAUCTION_DATABASE_URL": url, "TECHAUCTION_VAR_DIR": str(workdir / "var"),
        "TECHAUCTION_ENV": "test", "COLUMNS": "100",
    }
    command = [sys.executable, "-m", "app.cli", "export", "--format", "csv", "--output", str(output)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"export failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return seconds, cpu, after.ru_maxrss / 1024, done.stderr


def _verify(url: str, workdir: Path) -> tuple[float, int]:
    output = workdir / "settlements.csv"
    env = os.environ | {"TECHAUCTION_DATABASE_URL": url, "TECHAUCTION_VAR_DIR": str(workdir / "var"),
                        "TECHAUCTION_ENV": "test"}
    command = [sys.executable, "-m", "app.cli", "verify-export", str(output),
               str(output) + ".manifest.json"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="settlements to export")
    parser.add_argument("--runs", type=int, default=3, help="exports timed (the median is reported)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    from app import migrate as migrations

    server = _server_url()
    name = f"techauction_bench_export_{uuid.uuid4().hex[:8]}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        migrations.upgrade(url)
        seeded = asyncio.run(_seed_database(url, args.rows))
        print(f"seeded {args.rows:,} settlements into {name} in {seeded:.1f} s")
        runs = []
        with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
            workdir = Path(tmp)
            for _ in range(max(args.runs, 1)):
                load = os.getloadavg()[0]
                seconds, cpu, peak_mb, stderr = _run_export(url, workdir)
                inner = re.search(r" in ([0-9.]+) s;", stderr)
                runs.append((seconds, cpu, peak_mb, float(inner[1]) if inner else seconds, load))
                print(f"  export: {seconds:.2f} s wall, {cpu:.2f} s CPU, load {load:.1f}")
            size_mb = (workdir / "settlements.csv").stat().st_size / 2**20
            verify_s, verify_rc = _verify(url, workdir)
        return _report(args.rows, runs, size_mb, verify_s, verify_rc)
    finally:
        if not args.keep:
            asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _report(rows: int, runs: list, size_mb: float, verify_s: float, verify_rc: int) -> int:
    seconds, cpu, _, phase, load = sorted(runs)[len(runs) // 2]  # the median run
    peak_mb = max(run[2] for run in runs)
    rate = rows / seconds
    table = [
        ("rows exported (CSV size)", f"{rows:,} ({size_mb:,.0f} MB)", ""),
        ("load average at the median run", f"{load:.2f}", f"({os.cpu_count()} CPUs)"),
        ("wall time of `techauction export`", f"{seconds:.2f} s", f"median of {len(runs)}"),
        ("CPU time of the exporting process", f"{cpu:.2f} s", ""),
        ("rows/s (whole process)", f"{rate:,.0f}", f">= {TARGET_ROWS_PER_S:,}"),
        ("rows/s (export phase, no start-up)", f"{rows / phase:,.0f}", ""),
        ("rows/s (best run, whole process)", f"{rows / min(r[0] for r in runs):,.0f}", ""),
        ("peak RSS of the exporting process", f"{peak_mb:.0f} MB", f"< {TARGET_PEAK_MB} MB"),
        ("verify-export", f"{verify_s:.2f} s, exit {verify_rc}", "exit 0"),
    ]
    print(f"\n{'measure':<36}{'value':>22}{'target':>14}")
    for label, value, target in table:
        print(f"{label:<36}{value:>22}{target:>14}")
    ok = rate >= TARGET_ROWS_PER_S and peak_mb < TARGET_PEAK_MB and verify_rc == 0
    print("\nPASS" if ok else "\nBELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
