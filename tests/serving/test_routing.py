"""The bid route's place among the app's routes: first of all, and the only one to take a bid."""

from starlette.routing import Match

from app.main import create_app
from app.settings import Settings
from bench.app import create_bench_app


def _request(method: str, path: str) -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [],
            "query_string": b""}


def _matching(app, scope: dict) -> list[int]:
    return [i for i, route in enumerate(app.router.routes) if route.matches(scope)[0] is Match.FULL]


def test_a_bid_is_matched_by_the_first_route_and_by_no_other(settings: Settings) -> None:
    for factory in (create_app, create_bench_app):
        app = factory(settings)
        assert _matching(app, _request("POST", "/api/v1/auctions/7/bids")) == [0]
        # the other requests on the same path still reach their own routes, further on
        listing = _matching(app, _request("GET", "/api/v1/auctions/7/bids"))
        assert len(listing) == 1 and listing[0] > 0
