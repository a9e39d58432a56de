"""A small seeded run of bench/simulate.py: revenue equivalence through the real rules.

The expected revenue, (n-1)/(n+1) of the value range, comes from auction theory, not from
the rules; per-auction prices are checked against order statistics of the drawn values; and
two deliberately broken rules are shown to fail the check, so it cannot pass by construction.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from app.auctions.domain import rules
from app.auctions.domain.rules import Outcome, RoundSpec, RoundState
from bench.simulate import (
    KINDS,
    Market,
    draw_values,
    dutch_revenue,
    english_revenue,
    main,
    sealed_revenue,
    shade,
    simulate,
)

Z = 3.5  # wide enough that a correct rule fails about once in 2,000 seeds per kind


@pytest.mark.parametrize(("bidders", "seed"), [(3, 7), (5, 1)])
def test_mean_revenues_agree_with_theory(bidders: int, seed: int) -> None:
    market = Market(bidders)
    summary = simulate(1_500, market, seed)
    for kind, stat in summary.stats.items():
        assert stat.count == 1_500
        assert stat.holds(market.theory, z=Z), (kind, stat.mean, market.theory, stat.half_width)
    means = sorted(s.mean for s in summary.stats.values())
    widest = max(s.half_width for s in summary.stats.values())
    assert means[-1] - means[0] <= 2 * widest * Z / 1.96  # and with each other


def test_each_auction_prices_as_the_order_statistics_say() -> None:
    rng, market = random.Random(3), Market(4, scale=100_000, increment=50)
    for _ in range(300):
        values = draw_values(rng, market)
        v1, v2 = sorted(values, reverse=True)[:2]
        english = english_revenue(values, market, rng)
        # below v2 only when the runner-up's max lay less than an increment above the price
        assert v2 - market.increment < english <= min(v1, v2 + market.increment)
        assert sealed_revenue("sealed_second_price", values, market) == v2
        bids = [shade(v, 4) for v in values]
        assert sealed_revenue("sealed_first_price", bids, market) == max(bids)
        assert max(bids) - market.increment < dutch_revenue(values, market) <= max(bids)


def test_the_increment_ladder_ends_where_the_proxies_do() -> None:
    rng = random.Random(9)
    proxy, ladder = Market(3, scale=20_000, increment=100), Market(3, 20_000, 100, "ladder")
    for _ in range(100):
        values = draw_values(rng, proxy)
        v1, v2 = sorted(values, reverse=True)[:2]
        by_ladder = english_revenue(values, ladder, rng)
        assert v2 - proxy.increment < by_ladder <= min(v1, v2 + proxy.increment)
        assert abs(by_ladder - english_revenue(values, proxy, rng)) <= 2 * proxy.increment


def _pays_the_top_bid(spec: RoundSpec, state: RoundState) -> Outcome:
    best = rules.rank(state.bids)[0]
    return Outcome(True, best.bidder, best.amount)


def _pays_the_winners_max(spec: RoundSpec, state: RoundState) -> Outcome:
    return Outcome(True, state.leader, state.proxy_max or state.current_price)


@pytest.mark.parametrize(
    ("kind", "broken"),
    [("sealed_second_price", _pays_the_top_bid), ("english", _pays_the_winners_max)],
)
def test_a_wrong_rule_fails_the_check(
    monkeypatch: pytest.MonkeyPatch, kind: str, broken: object
) -> None:
    monkeypatch.setitem(rules.KINDS, kind, replace(rules.KINDS[kind], outcome=broken))
    market = Market(5)
    stat = simulate(1_500, market, 1, kinds=[kind]).stats[kind]
    assert not stat.holds(market.theory, z=Z)


def test_cli_prints_a_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--auctions", "400", "--bidders", "4", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "round kind" not in line]
    assert [row.split(" | ")[0][2:] for row in rows] == list(KINDS)
    assert all(row.endswith("| yes |") for row in rows)
    with pytest.raises(SystemExit):
        main(["--bidders", "1"])
