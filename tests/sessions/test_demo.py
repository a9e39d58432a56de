"""`techauction demo`'s logic against a live uvicorn of the app: it seeds, runs and finishes a session."""

import pytest

from app.demo import DemoOptions, run_demo
from tests.support.actors import PASSWORD
from tests.support.server import LiveServer


@pytest.fixture
async def live(app, settings):
    """The app under uvicorn, running its own closer (as `make run`'s embedded set-up does)."""
    async with LiveServer(settings.model_copy(update={"closer_in_api": True})) as server:
        yield server


async def test_the_demo_runs_a_live_session_to_its_results(actors, live):
    said: list[str] = []
    options = DemoOptions(url=live.url, lots=2, lot_seconds=3, gap_seconds=1, bidders=3, seed=7,
                          lead_seconds=2.0, poll_seconds=0.1)
    result = await run_demo(options, admin_email=actors.admin.email, admin_password=PASSWORD,
                            say=said.append)
    results = result.results
    assert [lot["lot_number"] for lot in results["lots"]] == [1, 2]
    assert all(lot["outcome"] in ("sold", "passed") for lot in results["lots"])
    assert results["totals"]["sold"] >= 1
    sold = [lot for lot in results["lots"] if lot["outcome"] == "sold"]
    assert all(lot["winning_paddle"] and lot["hammer_price"] for lot in sold)
    assert results["lots"][0]["title"].startswith(
        "Design and development of a medium-power new-energy simulation test platform")
    assert result.room_urls[0] == f"{live.url}/auctions/{results['lots'][0]['auction_id']}"
    assert any(result.room_urls[0] in line for line in said)
    assert any("sold" in line for line in said)
    session = (await actors.client.get(f"/api/v1/sessions/{result.session_id}")).json()
    assert session["status"] == "finished"
