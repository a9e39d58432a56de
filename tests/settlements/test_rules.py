"""The pure settlement rules: money to the cent, the status machine, the trail digest."""

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.auctions.models import DepositStatus
from app.settlements import rules
from app.settlements.models import SettlementStatus
from app.settlements.rules import Action, Candidate

D = Decimal
CLOSE = date(2026, 11, 28)

money = st.decimals(min_value=D("0.01"), max_value=D("1000000000000.00"), places=2)
rates = st.decimals(min_value=D("0"), max_value=D("1"), places=4)


def terms(hammer="2010000.00", premium="0.05", commission="0.03", deposit="100000.00", days=30):
    return rules.compute_terms(
        hammer_price=D(hammer), buyer_premium_rate=D(premium),
        seller_commission_rate=D(commission), deposit=D(deposit), as_of=CLOSE, payment_days=days,
    )


def test_the_worked_example():
    t = terms()
    assert t.hammer_price == D("2010000.00")
    assert t.buyer_premium == D("100500.00")
    assert t.seller_commission == D("60300.00")
    assert t.deposit_applied == D("100000.00")
    assert t.amount_due == D("2010500.00")
    assert t.due_date == date(2026, 12, 28)


@pytest.mark.parametrize(("hammer", "rate", "expected"), [
    ("0.10", "0.0500", "0.01"),      # 0.005 rounds half up
    ("0.09", "0.0500", "0.00"),      # 0.0045 rounds down
    ("0.30", "0.0500", "0.02"),      # 0.015 rounds half up, not to even
    ("0.50", "0.0500", "0.03"),      # 0.025 rounds half up, not to even (banker's: 0.02)
    ("1.00", "0.1234", "0.12"),
    ("12345.67", "0.0375", "462.96"),  # 462.962625
    ("1000000000000.00", "1", "1000000000000.00"),
    ("99.99", "0", "0.00"),
])
def test_premium_and_commission_round_half_up_to_the_cent(hammer, rate, expected):
    t = terms(hammer=hammer, premium=rate, commission=rate, deposit="0")
    assert t.buyer_premium == D(expected) and t.seller_commission == D(expected)


def test_a_deposit_beyond_what_is_owed_is_capped():
    t = terms(hammer="1000.00", premium="0.05", deposit="5000.00")
    assert t.deposit_applied == D("1050.00") and t.amount_due == D("0.00")


def test_zero_deposit_and_zero_days():
    t = terms(deposit="0", days=0)
    assert t.deposit_applied == D("0.00") and t.due_date == CLOSE
    assert t.amount_due == t.hammer_price + t.buyer_premium


@pytest.mark.parametrize("bad", [
    {"hammer": "0"}, {"hammer": "-1.00"}, {"deposit": "-0.01"}, {"premium": "1.0001"},
    {"commission": "-0.0001"}, {"days": -1},
])
def test_invalid_inputs_are_refused(bad):
    with pytest.raises(ValueError):
        terms(**bad)


@given(hammer=money, premium=rates, commission=rates, deposit=money, days=st.integers(0, 365))
def test_terms_invariants(hammer, premium, commission, deposit, days):
    t = rules.compute_terms(
        hammer_price=hammer, buyer_premium_rate=premium, seller_commission_rate=commission,
        deposit=deposit, as_of=CLOSE, payment_days=days,
    )
    for value in (t.buyer_premium, t.seller_commission, t.deposit_applied, t.amount_due):
        assert value == value.quantize(D("0.01")) and value >= 0
    assert t.buyer_premium == (hammer * premium).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert abs(t.buyer_premium - hammer * premium) <= D("0.005")
    assert abs(t.seller_commission - hammer * commission) <= D("0.005")
    assert t.buyer_premium <= hammer and t.seller_commission <= hammer
    assert t.amount_due == t.hammer_price + t.buyer_premium - t.deposit_applied
    assert t.deposit_applied == min(deposit, hammer + t.buyer_premium)
    assert t.due_date - CLOSE == timedelta(days=days)


def test_utc_date_uses_utc():
    shanghai = timezone(timedelta(hours=8))
    assert rules.utc_date(datetime(2026, 11, 29, 7, 0, tzinfo=shanghai)) == date(2026, 11, 28)


# ---------------------------------------------------------------- status machine

ALLOWED = {
    (Action.confirm_payment, SettlementStatus.pending_payment): SettlementStatus.paid,
    (Action.complete, SettlementStatus.paid): SettlementStatus.completed,
    (Action.default, SettlementStatus.pending_payment): SettlementStatus.defaulted,
}


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", list(SettlementStatus))
def test_status_machine_is_exactly_the_documented_one(action, status):
    assert rules.next_status(action, status) == ALLOWED.get((action, status))


def test_final_statuses_have_no_way_out():
    for status in rules.FINAL_STATUSES:
        assert all(rules.next_status(a, status) is None for a in Action)


@pytest.mark.parametrize("current", [*DepositStatus, None])
@pytest.mark.parametrize("target", list(DepositStatus))
def test_deposit_moves(current, target):
    allowed = {("held", "applied"), ("held", "released"), ("applied", "forfeited"),
               ("released", "applied")}
    expected = current is not None and (current.value, target.value) in allowed
    assert rules.deposit_may_move(current, target) is expected


# ---------------------------------------------------------------- runner-up


def test_runner_up_is_the_best_other_bid_meeting_the_reserve():
    bids = [Candidate(1, D("300.00"), 5), Candidate(2, D("290.00"), 4), Candidate(3, D("290.00"), 2)]
    assert rules.runner_up(bids, exclude_organization_id=1, reserve=None) == bids[2]  # tie: earlier
    assert rules.runner_up(bids, exclude_organization_id=1, reserve=D("290.00")) == bids[2]
    assert rules.runner_up(bids, exclude_organization_id=1, reserve=D("290.01")) is None
    assert rules.runner_up(bids[:1], exclude_organization_id=1, reserve=None) is None
    assert rules.runner_up([], exclude_organization_id=1, reserve=None) is None


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 10_000)), max_size=30),
       st.integers(1, 5), st.none() | st.integers(1, 10_000))
def test_runner_up_property(raw, exclude, reserve_cents):
    bids = [Candidate(org, D(cents) / 100, seq) for seq, (org, cents) in enumerate(raw, 1)]
    reserve = None if reserve_cents is None else D(reserve_cents) / 100
    chosen = rules.runner_up(bids, exclude_organization_id=exclude, reserve=reserve)
    eligible = [b for b in bids if b.organization_id != exclude and (reserve is None or b.amount >= reserve)]
    if not eligible:
        assert chosen is None
        return
    assert chosen.amount == max(b.amount for b in eligible)
    assert chosen.sequence == min(b.sequence for b in eligible if b.amount == chosen.amount)


# ---------------------------------------------------------------- trail digest

T0 = datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=UTC)


def test_trail_line_format():
    line = rules.trail_line(sequence=7, round_index=0, paddle="4821", amount=D("2010000"),
                            placed_at=T0)
    assert line == "7|0|4821|2010000.00|2026-11-28T10:00:00.123Z\n"
    other_zone = T0.astimezone(timezone(timedelta(hours=8)))
    assert rules.trail_line(sequence=7, round_index=0, paddle="4821", amount=D("2010000.00"),
                            placed_at=other_zone) == line


def test_digest_is_sha256_of_the_documented_lines():
    digest = rules.TrailDigest()
    assert digest.hexdigest() == rules.EMPTY_TRAIL_SHA256 == hashlib.sha256(b"").hexdigest()
    digest.add(sequence=1, round_index=0, paddle="1001", amount=D("2000000.00"), placed_at=T0)
    digest.add(sequence=2, round_index=0, paddle="2002", amount=D("2010000.00"),
               placed_at=T0 + timedelta(seconds=1))
    text = ("1|0|1001|2000000.00|2026-11-28T10:00:00.123Z\n"
            "2|0|2002|2010000.00|2026-11-28T10:00:01.123Z\n")
    assert digest.hexdigest() == hashlib.sha256(text.encode()).hexdigest()
    assert digest.count == 2


def test_digest_refuses_out_of_order_bids():
    digest = rules.TrailDigest()
    digest.add(sequence=2, round_index=0, paddle="1", amount=D("1.00"), placed_at=T0)
    for sequence in (1, 2):
        with pytest.raises(ValueError):
            digest.add(sequence=sequence, round_index=0, paddle="1", amount=D("1.00"), placed_at=T0)


@given(st.lists(st.tuples(money, st.integers(1000, 99999),
                          st.integers(0, 10**12)), min_size=1, max_size=20))
def test_any_change_to_the_trail_changes_the_digest(raw):
    bids = [dict(sequence=i, round_index=0, paddle=str(p), amount=a,
                 placed_at=datetime.fromtimestamp(ms / 1000, UTC))
            for i, (a, p, ms) in enumerate(raw, 1)]

    def digest_of(trail):
        d = rules.TrailDigest()
        for bid in trail:
            d.add(**bid)
        return d.hexdigest()

    base = digest_of(bids)
    assert digest_of(bids[:-1]) != base
    changed = [*bids[:-1], bids[-1] | {"amount": bids[-1]["amount"] + D("0.01")}]
    assert digest_of(changed) != base
