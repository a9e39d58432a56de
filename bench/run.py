"""`techauction bench`: the bid path against its floors and a PostgreSQL baseline, in one run.

Set-up (wrk, a fresh database, a Redis prefix, the service with 2 workers, seeding over
HTTP), then every scenario at saturation, repeated and interleaved so the shared machine's
noise spreads evenly, then the bid scenarios and the floors (a), (b), (b') at half their
median saturating rate; medians, ratios and the issue's targets. Everything it made is
removed at the end, also on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import asyncpg
from rich.console import Console

from bench import stages
from bench.ceiling import Ceiling
from bench.hostprobe import DiskFlushProbe
from bench.loadgen import Run, ensure_wrk, run_wrk
from bench.report import SCENARIOS, Summary, is_timed, now_iso, pct, render, write_json
from bench.seed import seed
from bench.stack import DEFAULT_PG, DEFAULT_REDIS, ROOT, Stack, free_port, plain_url

RESULTS = ROOT / "bench" / "results" / "latest.json"
MIN_RATE_HELD = 0.95  # a paced run must achieve this share of its offered rate


@dataclass
class Options:
    quick: bool = False
    seconds: float = 10.0
    reps: int = 3
    connections: int = 64
    # One wrk thread: it drove about 6x endpoint (a) here (the ceiling row), and each thread more is
    # one more process preempting the service on the 2 cores they share (bench/README.md)
    threads: int = 1
    bidders: int = 64
    lots: int = 100
    workers: int = 2  # the figure; 1 shows what the second worker's reordering costs
    warmup: float = 2.0
    pg_url: str = ""
    redis_url: str = ""
    output: Path = RESULTS

    def __post_init__(self) -> None:
        if self.quick:
            self.seconds, self.reps, self.bidders, self.warmup = 3.0, 1, 16, 1.0
        configured = os.environ.get("TECHAUCTION_DATABASE_URL", "")
        self.pg_url = self.pg_url or (configured if configured.startswith("postgres") else DEFAULT_PG)
        self.redis_url = self.redis_url or os.environ.get("TECHAUCTION_REDIS_URL") or DEFAULT_REDIS
        if not (1 <= self.reps <= 20 and 1 <= self.seconds <= 120 and 1 <= self.lots <= 1000
                and 1 <= self.workers <= 16 and 1 <= self.threads <= min(16, self.connections)):
            raise ValueError("reps 1..20, seconds 1..120, lots 1..1000, workers 1..16 and "
                             "threads 1..16 (at most one per connection)")


class _Terminated(Exception):
    pass


def _on_sigterm(_signum, _frame) -> None:
    raise _Terminated


def main(options: Options, console: Console | None = None) -> int:
    """Run the whole bench; 0 when it completed (whether or not the targets are met)."""
    console = console or Console(width=None if sys.stdout.isatty() else 240)
    log_console = Console(stderr=True)

    def log(message: str) -> None:
        log_console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}")

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    defaults = options.pg_url == DEFAULT_PG and options.redis_url == DEFAULT_REDIS
    wrk = ensure_wrk(start_services=defaults)
    stack = Stack(pg_server=options.pg_url, redis_url=options.redis_url, workers=options.workers)
    load_before = os.getloadavg()
    if load_before[0] > 1.0:
        log(f"[yellow]load average {load_before[0]:.1f} before starting: other work shares this "
            f"machine, so the absolute figures will be low (the side-by-side ratios suffer less)"
            f"[/yellow]")
    try:
        stack.start(log)
        data = asyncio.run(seed(stack, bidders=options.bidders, lots=options.lots, log=log))
        data_file = stack.tmp / "bench_data.lua"
        data.write_lua(data_file)
        summaries, totals = _measure(options, stack, wrk, data_file, log)
        checks = _check_trail(stack, totals, log)
        meta = {"date": now_iso(), "quick": options.quick, "seconds": options.seconds,
                "reps": options.reps, "connections": options.connections,
                "threads": options.threads, "bidders": options.bidders, "lots": options.lots,
                "workers": stack.workers, "cpus": os.cpu_count(),
                "load_average_before": load_before, "load_average_after": os.getloadavg()}
        render(console, summaries, meta)
        write_json(options.output, summaries, meta, checks)
        log(f"wrote {options.output}")
        return 0 if checks["ok"] else 1
    except (KeyboardInterrupt, _Terminated):
        log("[yellow]interrupted: cleaning up[/yellow]")
        return 130
    except Exception:
        log(f"[red]the bench failed; the service's log ends with:[/red]\n{stack.server_log_tail()}")
        raise
    finally:
        stack.close(log)
        signal.signal(signal.SIGTERM, previous)
        log("cleaned up: service stopped, bench database dropped, Redis keys deleted")


def _measure(options: Options, stack: Stack, wrk: str, data_file: Path, log):
    summaries = {s.key: Summary(s) for s in SCENARIOS}
    # 201s answered and runs made, to compare with the SQL trails
    totals = {"bid": 0, "pg": 0, "bid_runs": 0, "pg_runs": 0, "connections": options.connections}
    ceiling = Ceiling(free_port())

    def once(key: str, seconds: float, rate: float = 0) -> Run:
        scenario = summaries[key].scenario
        url = f"http://127.0.0.1:{ceiling.port}" if key == "ceiling" else stack.base_url
        pids = ceiling.pids() if key == "ceiling" else stack.server_pids()
        # where its slow bids spent their time
        scrape = partial(stages.scrape, stack.base_url, stack.metrics_token)
        before = scrape() if rate > 0 and is_timed(scenario) else None
        with DiskFlushProbe(stack.tmp) if rate > 0 else nullcontext() as probe:
            run = run_wrk(wrk=wrk, url=url, data=data_file, target=scenario.target,
                          lots=scenario.lots, seconds=seconds, connections=options.connections,
                          threads=options.threads, rate=rate, server_pids=pids)
        if probe is not None:
            run.disk_flush_max_ms, run.disk_flushes_over_20ms = probe.max_ms, probe.slow
        if before is not None:
            for name, share in stages.shares_over(before, scrape()).items():
                setattr(run, name, share)
        if key != "ceiling" and scenario.target in totals:
            totals[scenario.target] += run.status_201
            totals[f"{scenario.target}_runs"] += 1
        if run.bad or not run.requests:
            log(f"[red]{key}: {run.requests} answers, {run.bad} unexpected ones or socket errors"
                f"[/red]\n"
                f"{stack.server_log_tail(10)}")
        return run

    with ceiling:
        log(f"warm-up: {options.warmup:.0f} s per scenario")
        for key in summaries:
            once(key, options.warmup)
        for rep in range(1, options.reps + 1):
            for key, summary in summaries.items():
                run = once(key, options.seconds)
                summary.saturated.append(run)
                log(f"saturation {rep}/{options.reps} {key:9} {run.rps:8,.0f} req/s "
                    f"{run.ok_rps:8,.0f} ok/s  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms"
                    f"  wrk {run.wrk_cpu:.2f} cores")
    paced = [s for s in summaries.values() if s.scenario.paced]
    for rep in range(1, options.reps + 1):
        for summary in paced:
            rate = summary.sat("rps") / 2
            run = once(summary.scenario.key, options.seconds, rate=rate)
            summary.paced.append(run)
            held = "" if run.rps >= MIN_RATE_HELD * rate else "  [red]rate not held[/red]"
            log(f"half rate {rep}/{options.reps} {summary.scenario.key:9} offered {rate:7,.0f}/s "
                f"achieved {run.rps:7,.0f}/s  p50 {run.p50_ms:5.1f} ms  p99 {run.p99_ms:6.1f} ms"
                f"  steal {run.steal_cpu:.2f} cores{_disk(run)}{held}{_over_20ms(run)}")
    return summaries, totals


def _disk(run: Run) -> str:
    if run.disk_flush_max_ms is None:
        return ""
    return (f"  disk flush max {run.disk_flush_max_ms:.1f} ms "
            f"({run.disk_flushes_over_20ms} over 20 ms)")


def _over_20ms(run: Run) -> str:
    if run.app_over_20ms is None:
        return ""
    return (f"  over 20 ms: {pct(run.app_over_20ms)} in the app, "
            f"{pct(run.decision_over_20ms)} deciding, {pct(run.journal_over_20ms)} in the journal")


def _check_trail(stack: Stack, totals: dict[str, int], log) -> dict:
    """Every 201 is in its SQL trail (bids, or (c)'s bench_pg_bids).

    The trail may hold a few more rows than wrk counted 201s: when a run stops, wrk drops
    the requests still in flight (at most one per connection), though the server commits them.
    """
    counts = asyncio.run(_count_rows(stack))
    checks: dict = {"ok": True}
    for target, table in (("bid", "bids"), ("pg", "bench_pg_bids")):
        answered, rows, runs = totals[target], counts[table], totals[f"{target}_runs"]
        slack = totals["connections"] * runs
        ok = answered <= rows <= answered + slack
        checks[target] = {"201s": answered, "rows": rows, "runs": runs, "ok": ok}
        checks["ok"] = checks["ok"] and ok
        colour = "green" if ok else "red"
        log(f"[{colour}]trail check {table}: {answered} 201s counted by wrk, {rows} rows "
            f"(at most {slack} in flight when runs stopped)[/{colour}]")
    return checks


async def _count_rows(stack: Stack) -> dict[str, int]:
    conn = await asyncpg.connect(plain_url(stack.database_url))
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in ("bids", "bench_pg_bids")}
    finally:
        await conn.close()

