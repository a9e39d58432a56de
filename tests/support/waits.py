"""Bounded waits for processes the tests start."""

import asyncio
import subprocess
import time
from collections.abc import Callable


def wait_for(
    predicate: Callable[[], object], timeout: float, what: str, process: subprocess.Popen | None = None,
) -> None:
    """Poll predicate every 50 ms until it is true; TimeoutError after timeout seconds, and
    RuntimeError as soon as `process` (when given) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}")
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


async def until(predicate: Callable[[], object], seconds: float, what: str) -> None:
    """Poll predicate every 100 ms, letting the event loop run (in-test servers answer
    meanwhile); TimeoutError after `seconds`."""
    for _ in range(int(seconds * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"timed out after {seconds}s waiting for {what}")
