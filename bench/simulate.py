"""Revenue equivalence, simulated through the real bidding rules (rules.py only: pure, fast).

    python -m bench.simulate --auctions 5000 --bidders 5 --seed 1

Every auction draws independent private values uniformly on [0, 1] (scaled to money: 1 =
``--scale`` minor units) for n bidders and sells the lot under each round kind, decided by
``rules.decide_bid`` / ``rules.round_outcome``:

- english: truthful bidding, each bidder bids by the increment up to his value. By default
  through proxy bids (max_amount = value, resolved by the engine exactly as the increment
  ladder would end); ``--english ladder`` makes the bidders bid the minimum in turn instead.
- sealed_second_price: truthful, everyone bids his value.
- sealed_first_price: the risk-neutral equilibrium, bid (n-1)/n of the value.
- dutch: the same equilibrium as first price, taken on a clock falling by the increment.

Revenue equivalence says all of them earn (n-1)/(n+1) of the value range on average. The
report gives each mean with a 95% confidence interval; the run agrees when every interval
holds the theoretical value (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.auctions.domain import rules
from app.auctions.domain.rules import Accepted, RoundSpec, RoundState

Z95 = 1.959964
END = 10**13  # rounds never run out of time in the simulation


@dataclass(frozen=True)
class Market:
    """n bidders, values in minor units on [0, scale], bids by the increment."""

    bidders: int
    scale: int = 1_000_000
    increment: int = 100
    english: str = "proxy"  # or "ladder"

    @property
    def names(self) -> list[str]:
        return [f"b{i}" for i in range(self.bidders)]

    @property
    def theory(self) -> float:
        return (self.bidders - 1) / (self.bidders + 1) * self.scale


def draw_values(rng: random.Random, market: Market) -> list[int]:
    """Independent private values, uniform on [0, 1] scaled to whole minor units (>= 1)."""
    return [max(1, round(rng.random() * market.scale)) for _ in range(market.bidders)]


def shade(value: int, n: int) -> int:
    """The first-price equilibrium bid for uniform values: (n-1)/n of the value."""
    return max(1, value * (n - 1) // n)


def _sold_price(spec: RoundSpec, state: RoundState) -> int:
    outcome = rules.round_outcome(spec, state)
    return outcome.price if outcome.sold else 0  # type: ignore[return-value]


def english_revenue(values: Sequence[int], market: Market, rng: random.Random) -> int:
    spec = RoundSpec("english", 0, END, 1, market.increment)
    state, names, now = RoundState.initial(spec), market.names, 1
    if market.english == "proxy":
        order = list(range(len(values)))
        rng.shuffle(order)
        for i in order:
            decision = rules.decide_bid(spec, state, bidder=names[i], max_amount=values[i], now_ms=now)
            if isinstance(decision, Accepted):
                state = decision.state
            now += 1
        return _sold_price(spec, state)
    while True:  # the ladder: someone who still values the lot bids the minimum, in turn
        minimum = rules.minimum_next_bid(spec, state)
        keen = [i for i, v in enumerate(values) if v >= minimum and names[i] != state.leader]
        if not keen:
            return _sold_price(spec, state)
        i = rng.choice(keen)
        decision = rules.decide_bid(spec, state, bidder=names[i], amount=minimum, now_ms=now)
        assert isinstance(decision, Accepted), decision
        state, now = decision.state, now + 1


def sealed_revenue(kind: str, bids: Sequence[int], market: Market) -> int:
    spec = RoundSpec(kind, 0, END, 1, market.increment)
    state = RoundState.initial(spec)
    for i, amount in enumerate(bids):
        decision = rules.decide_bid(spec, state, bidder=market.names[i], amount=amount, now_ms=1 + i)
        assert isinstance(decision, Accepted), decision
        state = decision.state
    return _sold_price(spec, state)


def dutch_revenue(values: Sequence[int], market: Market) -> int:
    """The clock falls from the top of the range; the highest equilibrium bid stops it."""
    interval, n = 1_000, market.bidders
    spec = RoundSpec("dutch", 0, END, market.scale, 1, step=market.increment,
                     interval_ms=interval, floor=1)
    stops = [shade(v, n) for v in values]
    i = max(range(n), key=stops.__getitem__)
    drops = max(0, -(-(market.scale - stops[i]) // market.increment))  # ceil
    decision = rules.decide_bid(spec, RoundState.initial(spec), bidder=market.names[i],
                                amount=stops[i], now_ms=drops * interval)
    assert isinstance(decision, Accepted), decision
    return _sold_price(spec, decision.state)


Strategy = Callable[[Sequence[int], Market, random.Random], int]
KINDS: dict[str, tuple[str, Strategy]] = {
    "english": ("truthful: by the increment up to the value",
                lambda v, m, rng: english_revenue(v, m, rng)),
    "sealed_second_price": ("truthful: bid = value",
                            lambda v, m, rng: sealed_revenue("sealed_second_price", v, m)),
    "sealed_first_price": ("equilibrium: bid = (n-1)/n x value",
                           lambda v, m, rng: sealed_revenue("sealed_first_price",
                                                            [shade(x, m.bidders) for x in v], m)),
    "dutch": ("equilibrium: take at (n-1)/n x value", lambda v, m, rng: dutch_revenue(v, m)),
}


@dataclass
class Stat:
    """Running mean and variance (Welford), in minor units."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, x: float) -> None:
        self.count += 1
        delta = x - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (x - self.mean)

    @property
    def half_width(self) -> float:
        """Half the 95% confidence interval of the mean."""
        if self.count < 2:
            return math.inf
        return Z95 * math.sqrt(self.m2 / (self.count - 1) / self.count)

    def holds(self, value: float, z: float = Z95) -> bool:
        return abs(self.mean - value) <= self.half_width * z / Z95


@dataclass
class Summary:
    market: Market
    auctions: int
    seed: int
    stats: dict[str, Stat] = field(default_factory=dict)

    @property
    def agree(self) -> bool:
        return all(s.holds(self.market.theory) for s in self.stats.values())


def simulate(auctions: int, market: Market, seed: int, kinds: Sequence[str] = tuple(KINDS)) -> Summary:
    """Run every kind on the same drawn values (common random numbers), auction by auction."""
    rng = random.Random(seed)
    summary = Summary(market, auctions, seed, {k: Stat() for k in kinds})
    for _ in range(auctions):
        values = draw_values(rng, market)
        for kind in kinds:
            summary.stats[kind].add(KINDS[kind][1](values, market, rng))
    return summary


def _money(units: float) -> str:
    return f"{units / 100:,.2f}"


def render(summary: Summary) -> str:
    """The report as a markdown table (for the README)."""
    m, n = summary.market, summary.market.bidders
    lines = [
        f"Revenue equivalence: {summary.auctions} auctions, {n} bidders, private values uniform "
        f"on [0, {_money(m.scale)}], increment {_money(m.increment)}, seed {summary.seed} "
        f"(`python -m bench.simulate --auctions {summary.auctions} --bidders {n} "
        f"--seed {summary.seed}`).",
        "",
        "| round kind | bidding | mean revenue | 95% CI | share of range | theory (n-1)/(n+1) "
        "| theory in CI |",
        "|---|---|---:|---:|---:|---:|:---:|",
    ]
    for kind, stat in summary.stats.items():
        low, high = stat.mean - stat.half_width, stat.mean + stat.half_width
        lines.append(
            f"| {kind} | {KINDS[kind][0]} | {_money(stat.mean)} | {_money(low)} .. {_money(high)} "
            f"| {stat.mean / m.scale:.4f} | {_money(m.theory)} ({(n - 1) / (n + 1):.4f}) "
            f"| {'yes' if stat.holds(m.theory) else 'NO'} |"
        )
    verdict = "agree" if summary.agree else "DO NOT agree"
    lines += ["", f"All kinds {verdict} with revenue equivalence within their 95% CIs."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simulate", description=__doc__.split("\n")[0])
    parser.add_argument("--auctions", type=int, default=5_000)
    parser.add_argument("--bidders", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=int, default=1_000_000,
                        help="minor units for a value of 1 (default 10,000.00)")
    parser.add_argument("--increment", type=int, default=100, help="minor units (default 1.00)")
    parser.add_argument("--english", choices=["proxy", "ladder"], default="proxy",
                        help="truthful english through proxies or a literal ladder of bids")
    args = parser.parse_args(argv)
    if args.bidders < 2 or args.auctions < 2 or args.increment < 1 or args.scale < args.increment:
        parser.error("need at least 2 bidders and 2 auctions, and 1 <= increment <= scale")
    market = Market(args.bidders, args.scale, args.increment, args.english)
    summary = simulate(args.auctions, market, args.seed)
    print(render(summary))
    return 0 if summary.agree else 1


if __name__ == "__main__":
    sys.exit(main())
