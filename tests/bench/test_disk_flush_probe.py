"""The bench's disk flush probe, on the real disk of the test's temporary directory."""

import time

from bench.hostprobe import PERIOD_S, DiskFlushProbe


def test_probe_times_flushes_while_open_and_removes_its_file(tmp_path):
    with DiskFlushProbe(tmp_path) as probe:
        deadline = time.monotonic() + 10  # a busy disk may take long over a flush
        while len(probe.latencies_ms) < 3 and time.monotonic() < deadline:
            time.sleep(PERIOD_S)
        assert probe.path.exists()
    count = len(probe.latencies_ms)
    assert count >= 3
    assert all(ms > 0 for ms in probe.latencies_ms)
    assert probe.max_ms == round(max(probe.latencies_ms), 3)
    assert probe.slow == sum(1 for ms in probe.latencies_ms if ms > 20)
    assert not probe.path.exists()
    time.sleep(PERIOD_S * 2)
    assert len(probe.latencies_ms) == count  # stopped with the block


def test_probe_that_saw_nothing_has_no_maximum(tmp_path):
    probe = DiskFlushProbe(tmp_path)
    assert probe.max_ms is None
    assert probe.slow == 0
