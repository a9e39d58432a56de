"""Medians of the repeated runs, the issue's targets, and the rich / markdown / JSON output."""

from __future__ import annotations

import json
import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.loadgen import Run
from bench.stages import STAGES

TARGET_VS_FLOOR = 0.5  # bid throughput >= 0.5 x (b)
TARGET_VS_PG = 3.0  # accepted bids/s >= 3 x (c), hot lot
TARGET_P99_MS = 20.0  # at half the saturating rate


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    target: str  # noop | redis | redis_batched | bid | pg | volatile (BENCH_TARGET of bids.lua)
    lots: str  # hot | all
    paced: bool = False  # also measured at half its saturating rate


SCENARIOS = (
    Scenario("ceiling", "wrk ceiling: raw responder, not the app", "noop", "hot"),
    # The floors are paced too: their half-rate p99 and CPU show what this host charges any
    # request of the app at a moderate rate, before a bid does anything of its own.
    Scenario("noop", "(a) POST /bench/noop", "noop", "hot", paced=True),
    Scenario("redis", "(b) POST /bench/redis-script", "redis", "hot", paced=True),
    Scenario("redis_batched", "(b') the same script, batched as bids are", "redis_batched",
             "hot", paced=True),
    Scenario("bid_hot", "bid, hot lot (Redis)", "bid", "hot", paced=True),
    Scenario("pg_hot", "(c) PG row-lock bid, hot lot", "pg", "hot", paced=True),
    Scenario("bid_lots", "bid, 100 lots (Redis)", "bid", "all", paced=True),
    Scenario("pg_lots", "(c) PG row-lock bid, 100 lots", "pg", "all", paced=True),
    Scenario("vol_lots", "bid without the journal (not durable), 100 lots", "volatile", "all"),
)


def is_timed(scenario: Scenario) -> bool:
    """Its half-rate runs are timed by the service's bid histograms (bench/stages.py)."""
    return scenario.target == "bid"


@dataclass
class Summary:
    """Per scenario: the runs at saturation and at half rate, with medians."""

    scenario: Scenario
    saturated: list[Run] = field(default_factory=list)
    paced: list[Run] = field(default_factory=list)

    @staticmethod
    def _median(runs: list[Run], attr: str) -> float | None:
        values = [v for r in runs if (v := getattr(r, attr)) is not None]
        return statistics.median(values) if values else None

    def sat(self, attr: str) -> float | None:
        return self._median(self.saturated, attr)

    def half(self, attr: str) -> float | None:
        return self._median(self.paced, attr)

    def as_dict(self) -> dict:
        keys = ("rps", "ok_rps", "p50_ms", "p99_ms", "wrk_cpu", "server_cpu", "machine_cpu",
                "steal_cpu", "cpu_ms_per_req", "ok_per_cpu_s")
        paced_keys = ("rate", *keys, "disk_flush_max_ms", "disk_flushes_over_20ms", *STAGE_KEYS)
        out = {
            "label": self.scenario.label,
            "saturation": {k: _round(self.sat(k)) for k in keys},
            "saturation_runs": [r.as_dict() for r in self.saturated],
        }
        if self.paced:
            out["half_rate"] = {k: _round(self.half(k)) for k in paced_keys}
            out["half_rate_runs"] = [r.as_dict() for r in self.paced]
        return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def ratios_and_targets(s: dict[str, Summary]) -> tuple[dict, list[dict]]:
    """Ratios of bid throughput to (a), (b), (c); and each target, met or not.

    Bid throughput is bids decided per second: answered 201 (accepted) or 409 (refused by
    the rules), each one decided by the bid script. On the hot lot the share refused is set
    by the order in which the two workers' bids reach Redis (bench/README.md, "The hot
    lot's refusals"), so accepted bids/s is reported beside it, and held to the target
    where the load refuses few: on the 100 lots."""
    ratios: dict[str, float | None] = {}
    for lots in ("hot", "lots"):
        bid = s[f"bid_{lots}"]
        accepted, decided = bid.sat("ok_rps"), bid.sat("rps")
        ratios[f"{lots}: bids decided/s (201 + 409) / (b) req/s"] = _ratio(
            decided, s["redis"].sat("rps"))
        ratios[f"{lots}: accepted bids/s / (b) req/s"] = _ratio(accepted, s["redis"].sat("rps"))
        ratios[f"{lots}: share of bids accepted"] = _ratio(accepted, decided)
        ratios[f"{lots}: accepted bids/s / (a) req/s"] = _ratio(accepted, s["noop"].sat("rps"))
        ratios[f"{lots}: accepted bids/s / (b') req/s"] = _ratio(
            accepted, s["redis_batched"].sat("rps"))
        ratios[f"{lots}: accepted bids/s / (c) accepted/s"] = _ratio(
            accepted, s[f"pg_{lots}"].sat("ok_rps"))
        ratios[f"{lots}: per server-CPU-second, accepted bids / (b) requests"] = _ratio(
            bid.sat("ok_per_cpu_s"), s["redis"].sat("ok_per_cpu_s"))
    ratios["100 lots: accepted bids/s durable / without journal"] = _ratio(
        s["bid_lots"].sat("ok_rps"), s["vol_lots"].sat("ok_rps"))
    ratios["(a) req/s / wrk ceiling req/s"] = _ratio(s["noop"].sat("rps"), s["ceiling"].sat("rps"))
    for key in ("noop", "redis", "bid_hot", "bid_lots"):
        label = s[key].scenario.label.split(" POST")[0]
        ratios[f"{label}: server CPU per request, half rate / saturation"] = _ratio(
            s[key].half("cpu_ms_per_req"), s[key].sat("cpu_ms_per_req"))
    targets = [
        _target("hot lot: bid throughput (bids decided/s) >= 0.5 x (b)",
                ratios["hot: bids decided/s (201 + 409) / (b) req/s"], TARGET_VS_FLOOR, "x"),
        _target("hot lot: accepted bids/s >= 3 x (c)",
                ratios["hot: accepted bids/s / (c) accepted/s"], TARGET_VS_PG, "x"),
        _target("hot lot: p99 < 20 ms at half the saturating rate",
                s["bid_hot"].half("p99_ms"), TARGET_P99_MS, "ms", below=True,
                note=_paced_note(s["bid_hot"])),
        _target("100 lots: bid throughput (bids decided/s) >= 0.5 x (b)",
                ratios["lots: bids decided/s (201 + 409) / (b) req/s"], TARGET_VS_FLOOR, "x"),
        _target("100 lots: accepted bids/s >= 0.5 x (b)",
                ratios["lots: accepted bids/s / (b) req/s"], TARGET_VS_FLOOR, "x"),
        _target("100 lots: p99 < 20 ms at half the saturating rate",
                s["bid_lots"].half("p99_ms"), TARGET_P99_MS, "ms", below=True,
                note=_paced_note(s["bid_lots"])),
        _target("100 lots: durable journal >= 0.7 x without",
                ratios["100 lots: accepted bids/s durable / without journal"], 0.7, "x"),
    ]
    return ratios, targets


def _target(name: str, value: float | None, bound: float, unit: str, below: bool = False,
            note: str = "") -> dict:
    met = value is not None and (value < bound if below else value >= bound)
    return {"target": name, "value": _round(value), "bound": bound, "unit": unit, "met": met,
            "note": note}


def _paced_note(summary: Summary) -> str:
    """Each half-rate run's p99, and how many of them the host's disk stalled in."""
    runs = summary.paced
    if not runs:
        return ""
    stalled = sum(1 for r in runs if r.disk_flushes_over_20ms)
    return (f"runs {' / '.join(f'{r.p99_ms:.1f}' for r in runs)} ms; {stalled} of {len(runs)} "
            f"with a host disk flush over 20 ms")


def _measured(t: dict) -> str:
    return f"{_f(t['value'], '.2f')} {t['unit']}" + (f" ({t['note']})" if t["note"] else "")


def _f(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def _rows(s: dict[str, Summary]) -> list[list[str]]:
    rows = []
    for summary in s.values():
        rows.append([
            summary.scenario.label, _f(summary.sat("rps")),
            _f(summary.sat("ok_rps")) if summary.scenario.target in ("bid", "pg", "volatile") else "",
            _f(summary.sat("p50_ms"), ".1f"), _f(summary.sat("p99_ms"), ".1f"),
            _f(summary.half("rate")) if summary.paced else "",
            _f(summary.half("rps")) if summary.paced else "",
            _f(summary.half("p50_ms"), ".1f") if summary.paced else "",
            _f(summary.half("p99_ms"), ".1f") if summary.paced else "",
            _f(summary.half("cpu_ms_per_req"), ".2f") if summary.paced else "",
            _f(summary.half("machine_cpu"), ".2f") if summary.paced else "",
            _f(summary.half("steal_cpu"), ".2f") if summary.paced else "",
            _f(summary.half("disk_flush_max_ms"), ".1f") if summary.paced else "",
            _f(summary.sat("cpu_ms_per_req"), ".2f"), _f(summary.sat("server_cpu"), ".2f"),
            _f(summary.sat("wrk_cpu"), ".2f"), _f(summary.sat("machine_cpu"), ".2f"),
        ])
    return rows


def pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f} %"


# shares of the bids over 20 ms, by the service's histograms (bench/stages.py)
STAGE_KEYS = tuple(STAGES)
STAGE_HEADERS = ["half rate", "p99 ms (wrk)", "bids over 20 ms: in the app",
                 "deciding (the Lua call in Redis)", "waiting for the journal's commit"]


def _stage_rows(s: dict[str, Summary]) -> list[list[str]]:
    return [[summary.scenario.label, _f(summary.half("p99_ms"), ".1f"),
             *(pct(summary.half(k)) for k in STAGE_KEYS)]
            for summary in s.values() if is_timed(summary.scenario) and summary.paced]


def _tables(s: dict[str, Summary]) -> list[tuple[list[str], list[list[str]]]]:
    return [(HEADERS, _rows(s)), (STAGE_HEADERS, _stage_rows(s))]


HEADERS = ["scenario", "req/s", "accepted/s", "p50 ms", "p99 ms", "half: offered/s",
           "half: achieved/s", "half: p50 ms", "half: p99 ms", "half: server CPU ms/req",
           "half: machine cores", "half: host steal cores", "half: host disk flush max ms",
           "server CPU ms/req", "server cores",
           "wrk cores", "machine cores"]


def render(console: Console, s: dict[str, Summary], meta: dict) -> None:
    """The rich table, the ratios and targets, and a markdown table for the README."""
    title = (f"techauction bench: medians of {meta['reps']} runs of {meta['seconds']} s, "
             f"-c {meta['connections']} -t {meta['threads']}")
    for headers, rows in _tables(s):
        table = Table(title=title)
        title = None
        for i, name in enumerate(headers):
            table.add_column(name, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    ratios, targets = ratios_and_targets(s)
    for name, value in ratios.items():
        console.print(f"  {name}: {_f(value, '.2f')}")
    for t in targets:
        mark = "[green]met[/green]" if t["met"] else "[red]NOT met[/red]"
        console.print(f"  target {t['target']}: {_measured(t)} -> {mark}")
    console.print()
    console.print(markdown(s, meta), markup=False, highlight=False, soft_wrap=True)


def markdown(s: dict[str, Summary], meta: dict) -> str:
    lines = [f"Medians of {meta['reps']} x {meta['seconds']} s runs, wrk -c {meta['connections']} "
             f"-t {meta['threads']}, {meta['workers']} uvicorn workers, {meta['bidders']} bidders, "
             f"{meta['cpus']} CPUs, "
             f"{meta['date']}, load average {meta['load_average_before'][0]:.1f} before."]
    for headers, rows in _tables(s):
        lines += ["", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    ratios, targets = ratios_and_targets(s)
    lines += ["", "| ratio | value |", "|---|---|"]
    lines += [f"| {name} | {_f(value, '.2f')} |" for name, value in ratios.items()]
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t['target']} | {_measured(t)} | {'yes' if t['met'] else 'no'} |"
              for t in targets]
    return "\n".join(lines)


def write_json(path: Path, s: dict[str, Summary], meta: dict, checks: dict) -> None:
    ratios, targets = ratios_and_targets(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "meta": meta | {"python": platform.python_version()},
        "scenarios": {key: summary.as_dict() for key, summary in s.items()},
        "ratios": {k: _round(v) for k, v in ratios.items()}, "targets": targets,
        "checks": checks,
    }, indent=2) + "\n")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
