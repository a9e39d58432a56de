"""The pure session rules: schedules, round layout, lot status and totals."""

from decimal import Decimal

import pytest

from app.sessions import rules
from app.sessions.rules import LotStatus, Slot


def test_timed_schedule_staggers_the_closes():
    assert rules.timed_schedule(starts_ms=1000, duration_ms=60_000, stagger_ms=30_000, lots=3) == [
        Slot(1000, 61_000), Slot(1000, 91_000), Slot(1000, 121_000)]


def test_live_schedule_estimates_one_lot_after_another():
    assert rules.live_schedule(starts_ms=0, duration_ms=100, gap_ms=10, lots=3) == [
        Slot(0, 100), Slot(110, 210), Slot(220, 320)]


def test_layout_rounds_and_hard_close():
    assert rules.layout_rounds(Slot(0, 1000), [300]) == [(0, 300), (300, 1000)]
    assert rules.layout_rounds(Slot(0, 1000), []) == [(0, 1000)]
    with pytest.raises(ValueError):
        rules.layout_rounds(Slot(0, 1000), [600, 400])
    assert rules.hard_close_ms(Slot(0, 1000), 500) == 1500
    assert rules.hard_close_ms(Slot(0, 1000), None) is None


NOT_DONE = {"cancelled": False, "closed_outcome": None, "held": False}


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"cancelled": True, "closed_outcome": None, "held": False, "live_status": "open"}, LotStatus.withdrawn),
    ({"cancelled": False, "closed_outcome": "sold", "held": False, "live_status": None}, LotStatus.sold),
    ({"cancelled": False, "closed_outcome": "unsold", "held": False, "live_status": None}, LotStatus.passed),
    ({"cancelled": False, "closed_outcome": None, "held": True, "live_status": None}, LotStatus.queued),
    (NOT_DONE | {"live_status": "scheduled"}, LotStatus.queued),
    (NOT_DONE | {"live_status": "scheduled", "live_round": 1}, LotStatus.open),
    (NOT_DONE | {"live_status": "open"}, LotStatus.open),
    (NOT_DONE | {"live_status": "closed", "live_final": False, "live_outcome": "unsold"},
     LotStatus.open),
    (NOT_DONE | {"live_status": "closed", "live_outcome": "sold"}, LotStatus.sold),
    (NOT_DONE | {"live_status": "closed", "live_outcome": "unsold"}, LotStatus.passed),
    # past its close, the close script not run yet: open (closing), not a guessed "passed"
    (NOT_DONE | {"live_status": "closed"}, LotStatus.open),
])
def test_lot_status(kwargs, expected):
    assert rules.lot_status(**kwargs) is expected


def test_session_status_runs_from_its_start():
    assert rules.session_status(stored="published", now_ms=5, starts_ms=10) == "published"
    assert rules.session_status(stored="published", now_ms=10, starts_ms=10) == "running"
    assert rules.session_status(stored="finished", now_ms=99, starts_ms=10) == "finished"


def test_totals_to_the_cent():
    totals = rules.totals([(LotStatus.sold, Decimal("1000000.10")), (LotStatus.passed, None),
                           (LotStatus.sold, Decimal("2.05")), (LotStatus.withdrawn, None)])
    assert totals == rules.Totals(4, 2, 1, 1, Decimal("0.6667"), Decimal("1000002.15"))
    assert rules.sell_through_rate(sold=0, offered=0) == Decimal("0.0000")
    assert rules.totals([]).turnover == Decimal("0.00")
