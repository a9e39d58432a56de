"""Running wrk with lua/bids.lua, and the CPU it and the server used meanwhile."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

LUA = Path(__file__).with_name("lua") / "bids.lua"
SETUP = Path(__file__).with_name("setup.sh")
TICKS = os.sysconf("SC_CLK_TCK")


def ensure_wrk(*, start_services: bool) -> str:
    """Install wrk (and start local PostgreSQL/Redis when asked) with setup.sh; wrk's path."""
    args = ["bash", str(SETUP)] + (["--start-services"] if start_services else [])
    subprocess.run(args, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed (bench/setup.sh failed)")
    return found


@dataclass
class Run:
    """One wrk run: counts, latency (ms) and CPU shares (1.0 = one core busy)."""

    target: str
    lots: str
    rate: float  # offered requests/s; 0 = closed loop
    duration_s: float
    requests: int
    status_201: int
    status_200: int
    status_409_bid_too_low: int
    status_409_already_leading: int
    status_409_other: int
    status_other: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    wrk_cpu: float
    server_cpu: float
    machine_cpu: float
    # CPU the hypervisor gave other guests while ours wanted it (/proc/stat "steal"): on a
    # shared VM the stalls behind a tail that no code of ours can shorten
    steal_cpu: float = 0.0
    # the host's disk meanwhile (bench/hostprobe.py): paced runs only
    disk_flush_max_ms: float | None = None
    disk_flushes_over_20ms: int | None = None
    # shares of bids over 20 ms by the service's histograms (bench/stages.py): bid runs only
    app_over_20ms: float | None = None
    decision_over_20ms: float | None = None
    journal_over_20ms: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s

    @property
    def ok_rps(self) -> float:
        """Requests/s answered 201 (accepted bids) or 200 (the floors)."""
        return (self.status_201 + self.status_200) / self.duration_s

    @property
    def cpu_ms_per_req(self) -> float | None:
        """Server CPU per answered request (ms): robust to how much of the machine we got."""
        return 1000 * self.server_cpu / self.rps if self.requests and self.server_cpu else None

    @property
    def ok_per_cpu_s(self) -> float | None:
        """Successful answers per second of server CPU."""
        return (self.status_201 + self.status_200) / (self.server_cpu * self.duration_s) \
            if self.server_cpu else None

    @property
    def bad(self) -> int:
        """Answers that are neither a success nor a rule's 409, plus socket errors."""
        return self.status_other + self.status_409_other + self.socket_errors

    def as_dict(self) -> dict:
        return asdict(self) | {"rps": round(self.rps, 1), "ok_rps": round(self.ok_rps, 1),
                               "cpu_ms_per_req": self.cpu_ms_per_req,
                               "ok_per_cpu_s": self.ok_per_cpu_s}


def _proc_cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def _machine_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies of all CPUs since boot; busy counts steal too."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, values[7], sum(values)


def run_wrk(
    *, wrk: str, url: str, data: Path, target: str, lots: str, seconds: float,
    connections: int, threads: int, rate: float = 0, server_pids: list[int],
) -> Run:
    """One wrk run; rate > 0 paces the requests (split evenly over the threads)."""
    env = dict(os.environ, BENCH_DATA=str(data), BENCH_TARGET=target, BENCH_LOTS=lots,
               BENCH_RATE=str(rate / threads if rate else 0))
    args = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(LUA), url]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = _proc_cpu_seconds(server_pids)
    busy_before, steal_before, total_before = _machine_ticks()
    completed = subprocess.run(args, env=env, capture_output=True, text=True,
                               timeout=seconds + 60)
    busy_after, steal_after, total_after = _machine_ticks()
    server_after = _proc_cpu_seconds(server_pids)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n"
                           f"{completed.stderr}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    duration = raw["duration_us"] / 1e6
    wrk_cpu = (children_after.ru_utime + children_after.ru_stime
               - children_before.ru_utime - children_before.ru_stime)
    cores = os.cpu_count() or 1
    return Run(
        target=target, lots=lots, rate=rate, duration_s=duration, requests=raw["requests"],
        status_201=raw["status_201"], status_200=raw["status_200"],
        status_409_bid_too_low=raw["status_409_bid_too_low"],
        status_409_already_leading=raw["status_409_already_leading"],
        status_409_other=raw["status_409_other"], status_other=raw["status_other"],
        socket_errors=raw["errors_connect"] + raw["errors_read"] + raw["errors_write"]
        + raw["errors_timeout"],
        p50_ms=raw["latency_p50_us"] / 1000, p90_ms=raw["latency_p90_us"] / 1000,
        p99_ms=raw["latency_p99_us"] / 1000, max_ms=raw["latency_max_us"] / 1000,
        wrk_cpu=wrk_cpu / duration, server_cpu=(server_after - server_before) / duration,
        machine_cpu=cores * (busy_after - busy_before) / max(1, total_after - total_before),
        steal_cpu=cores * (steal_after - steal_before) / max(1, total_after - total_before),
    )
