"""Bounded waits for processes the tests start."""

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
