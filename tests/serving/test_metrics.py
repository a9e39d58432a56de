"""GET /metrics: requests by route and status, and where a bid's time went (its decision in
Redis, and its wait for the commit that made it durable)."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from tests.conftest import TEST_METRICS_TOKEN
from tests.support.auctions import API, create_auction, qualified_bidder

BIDS_ROUTE = "/auctions/{auction_id}/bids"  # the template within the API router
METRICS_AUTH = {"Authorization": f"Bearer {TEST_METRICS_TOKEN}"}


@pytest.fixture
def settings(settings):
    """GET /metrics is on, behind the metrics token."""
    return settings.model_copy(update={"metrics_token": SecretStr(TEST_METRICS_TOKEN)})


async def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of GET /metrics by (name, labels)."""
    response = await client.get("/metrics", headers=METRICS_AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def grew(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_a_bid_is_counted_and_timed_in_the_engine_and_in_the_journal(actors, client):
    auction = await create_auction(actors)
    bidder = await qualified_bidder(actors, auction["id"])
    url = f"{API}/auctions/{auction['id']}/bids"
    before = await scrape(client)

    placed = await client.post(url, json={"amount": "2000000.00"}, headers=bidder.headers)
    refused = await client.post(url, json={"amount": "2100000.00"}, headers=bidder.headers)

    assert placed.status_code == 201, placed.text
    assert (refused.status_code, refused.json()["code"]) == (409, "already_leading")
    after = await scrape(client)
    for status in ("201", "409"):
        assert grew(before, after, "techauction_http_requests_total", method="POST",
                    route=BIDS_ROUTE, status=status) == 1
    assert grew(before, after, "techauction_http_request_seconds_count", method="POST",
                route=BIDS_ROUTE) == 2
    decision = "techauction_bid_decision_seconds_count"
    assert grew(before, after, decision, outcome="accepted") == 1
    assert grew(before, after, decision, outcome="already_leading") == 1
    # only the accepted bid went to the journal
    assert grew(before, after, "techauction_bid_journal_wait_seconds_count") == 1
    assert grew(before, after, "techauction_bid_journal_wait_seconds_bucket", le="+Inf") == 1


async def test_a_bad_bid_request_is_not_timed_as_a_decision(actors, client):
    auction = await create_auction(actors)
    bidder = await qualified_bidder(actors, auction["id"])
    before = await scrape(client)

    response = await client.post(f"{API}/auctions/{auction['id']}/bids",
                                 json={"amount": "abc"}, headers=bidder.headers)

    assert response.status_code == 422
    after = await scrape(client)
    assert grew(before, after, "techauction_http_requests_total", method="POST",
                route=BIDS_ROUTE, status="422") == 1
    decided = [k for k in after if k[0] == "techauction_bid_decision_seconds_count"
               and after[k] != before.get(k, 0.0)]
    assert decided == []


async def test_a_method_http_does_not_define_is_counted_as_other(client):
    before = await scrape(client)

    answers = [await client.request(method, "/api/v1/auctions") for method in ("FOO", "BAR1")]

    assert all(a.status_code in (404, 405) for a in answers), [a.status_code for a in answers]
    after = await scrape(client)
    counted = {k: after[k] - before.get(k, 0.0) for k in after
               if k[0] == "techauction_http_requests_total" and after[k] != before.get(k, 0.0)
               and dict(k[1])["route"] != "/metrics"}  # the first scrape
    assert {dict(k[1])["method"] for k in counted} == {"other"}
    assert sum(counted.values()) == 2
