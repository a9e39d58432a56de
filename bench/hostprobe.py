"""How long the host takes to flush a small write to disk, sampled beside a paced run.

Every accepted bid waits for PostgreSQL to flush its commit to disk, so a run in which the
host's disk stalls has slow bids that no code of ours can shorten, as a run with steal does
(bench/README.md, "The host's disk"). A thread writes 8 KiB and fdatasyncs them, 20 ms
after each flush ended (so a stall of D ms shows as a flush of at least D - 20 ms), in the
bench's temporary directory (on this host the disk PostgreSQL writes to). That adds about
one flush to every nine PostgreSQL makes at the bench's half rates (425-465 a second,
pg_stat_wal).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PERIOD_S = 0.02
BLOCK = b"\0" * 8192
SLOW_MS = 20.0


class DiskFlushProbe:
    """A context manager: flush latencies (ms) sampled while it is open."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "disk_flush_probe"
        self.latencies_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="disk-flush-probe", daemon=True)

    def __enter__(self) -> DiskFlushProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.path.unlink(missing_ok=True)

    @property
    def max_ms(self) -> float | None:
        return round(max(self.latencies_ms), 3) if self.latencies_ms else None

    @property
    def slow(self) -> int:
        """Flushes that took over 20 ms: each one held up every commit behind it."""
        return sum(1 for ms in self.latencies_ms if ms > SLOW_MS)

    def _sample(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while not self._stop.wait(PERIOD_S):
                started = time.perf_counter()
                os.pwrite(fd, BLOCK, 0)
                os.fdatasync(fd)
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
        finally:
            os.close(fd)
