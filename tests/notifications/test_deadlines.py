"""Payment deadlines on a clock the test moves: reminders 3 days and 1 day before the due
date (once each), then past the grace days an automatic default, the deposit forfeited and
the runner-up offered the lot; a paid settlement is left alone."""

from datetime import UTC, date, datetime, time, timedelta

from app.settlements.deadlines import defaults_on, enforce, reminder_due
from tests.support.auctions import API
from tests.support.settlements import deposits, settled, settlement_of

GRACE = 2


def at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


def test_rules():
    due = date(2026, 6, 30)
    assert [reminder_due(due, due - timedelta(days=d)) for d in (5, 4, 3, 2, 1, 0, -1)] == [
        None, None, 3, 3, 1, 1, None]
    assert not defaults_on(due, GRACE, due + timedelta(days=GRACE))
    assert defaults_on(due, GRACE, due + timedelta(days=GRACE + 1))


async def _types(actors, user) -> list[str]:
    items = (await actors.client.get(f"{API}/me/notifications", headers=user.headers)).json()["items"]
    return [n["type"] for n in items]


async def test_reminders_then_default_and_second_chance(app, actors):
    sale, s = await settled(app, actors, [("alice", "2000000.00"), ("bob", "2010000.00")])
    bob, alice = sale.bidders["bob"], sale.bidders["alice"]
    due = date.fromisoformat(s["due_date"])
    run = app.state.sessionmaker

    assert await enforce(run, now=at(due - timedelta(days=4)), grace_days=GRACE) == {
        "reminders": 0, "defaults": 0}
    assert (await enforce(run, now=at(due - timedelta(days=3)), grace_days=GRACE))["reminders"] == 1
    await enforce(run, now=at(due - timedelta(days=2)), grace_days=GRACE)  # the same reminder
    await enforce(run, now=at(due - timedelta(days=1)), grace_days=GRACE)
    await enforce(run, now=at(due), grace_days=GRACE)
    assert (await _types(actors, bob)).count("settlement.reminder") == 2
    reminders = [n for n in (await actors.client.get(f"{API}/me/notifications", headers=bob.headers)
                             ).json()["items"] if n["type"] == "settlement.reminder"]
    assert sorted(n["payload"]["days_left"] for n in reminders) == [1, 3]

    assert (await enforce(run, now=at(due + timedelta(days=GRACE)), grace_days=GRACE))["defaults"] == 0
    assert (await enforce(run, now=at(due + timedelta(days=GRACE + 1)), grace_days=GRACE)) == {
        "reminders": 0, "defaults": 1}
    first = (await actors.client.get(f"{API}/settlements/{s['id']}", headers=actors.admin.headers)).json()
    assert first["status"] == "defaulted"
    second = await settlement_of(actors, sale.auction_id)
    assert second["id"] != s["id"] and second["hammer_price"] == "2000000.00"
    # due payment_days (30) after the worker's clock, not the wall clock
    assert second["due_date"] == (due + timedelta(days=GRACE + 1 + 30)).isoformat()
    assert (await deposits(app, sale.auction_id))[bob.organization_id] == "forfeited"
    assert "settlement.defaulted" in await _types(actors, bob)
    assert "settlement.second_chance" in await _types(actors, alice)
    # again: nothing more (the second chance is due later, the first is no longer pending)
    assert (await enforce(run, now=at(due + timedelta(days=GRACE + 1)), grace_days=GRACE))[
        "defaults"] == 0


async def test_paid_settlement_is_left_alone(app, actors):
    sale, s = await settled(app, actors, [("carol", "2000000.00")])
    paid = await actors.client.post(f"{API}/settlements/{s['id']}/confirm-payment",
                                    json={"payment_reference": "PAY-1"}, headers=actors.admin.headers)
    assert paid.status_code == 200, paid.text
    due = date.fromisoformat(s["due_date"])
    assert await enforce(app.state.sessionmaker, now=at(due + timedelta(days=30)), grace_days=GRACE) == {
        "reminders": 0, "defaults": 0}
    assert "settlement.paid" in await _types(actors, sale.bidders["carol"])
