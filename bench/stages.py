"""Where a paced run's slow bids spent their time, from the service's own histograms.

GET /metrics (summed over the workers) before and after a run; the difference of two
cumulative histograms is the run's. The buckets have a bound at 20 ms, the p99 target, so
the share of bids over it is exact: the p99 is under 20 ms when that share is under 1 %.
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

BOUND = "0.02"
BID_ROUTE = {"method": "POST", "route": "/auctions/{auction_id}/bids"}
# name of the share -> (histogram, labels a sample must have)
STAGES = {
    "app_over_20ms": ("techauction_http_request_seconds", BID_ROUTE),
    "decision_over_20ms": ("techauction_bid_decision_seconds", {}),
    "journal_over_20ms": ("techauction_bid_journal_wait_seconds", {}),
}

Buckets = dict[str, tuple[float, float]]  # share name -> (observations, of them <= 20 ms)


def scrape(base_url: str, token: str) -> Buckets:
    """Each stage's count and count within 20 ms, as the service reports them now (GET /metrics
    with the service's metrics token)."""
    text = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {token}"},
                     timeout=10).raise_for_status().text
    found = {name: [0.0, 0.0] for name in STAGES}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for name, (histogram, labels) in STAGES.items():
                if not sample.labels.items() >= labels.items():
                    continue
                if sample.name == f"{histogram}_count":
                    found[name][0] += sample.value
                elif sample.name == f"{histogram}_bucket" and sample.labels["le"] == BOUND:
                    found[name][1] += sample.value
    return {name: (total, fast) for name, (total, fast) in found.items()}


def shares_over(before: Buckets, after: Buckets) -> dict[str, float | None]:
    """Per stage, the share of the run's observations over 20 ms (None: none observed)."""
    shares: dict[str, float | None] = {}
    for name in STAGES:
        total = after[name][0] - before[name][0]
        fast = after[name][1] - before[name][1]
        shares[name] = (total - fast) / total if total > 0 else None
    return shares
