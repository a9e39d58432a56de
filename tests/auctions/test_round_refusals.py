"""A refused round setting names its round (errors[0].loc), so a form can show it on its row."""

from tests.support.auctions import API, approved_listing
from tests.support.live import auction_body, english_round, later


async def test_a_refused_round_is_named_by_its_index(actors, client):
    listing_id = await approved_listing(actors)
    good = auction_body(listing_id, starts_at=later(-1), ends_at=later(30))
    dutch = {"kind": "dutch", "step": "1.00", "interval_seconds": 1, "floor": "9000000.00"}
    cases = [
        (english_round(later(-1), later(30)) + english_round(later(31), later(60)),
         "advance_required", 0),
        ([english_round(later(-1), later(30))[0] | {"advance": 2},
          english_round(later(31), later(60))[0] | dutch], "floor_above_starting_price", 1),
        ([english_round(later(-120), later(-90))[0] | {"advance": 2},
          *english_round(later(-80), later(-60))], "round_in_past", 1),
    ]
    for rounds, code, index in cases:
        refused = await client.post(f"{API}/auctions", json=good | {"rounds": rounds},
                                    headers=actors.admin.headers)
        assert refused.status_code == 422 and refused.json()["code"] == code, refused.text
        assert refused.json()["errors"][0]["loc"] == ["body", "rounds", index]
    # the same body with good rounds is taken
    ok = await client.post(f"{API}/auctions", json=good, headers=actors.admin.headers)
    assert ok.status_code == 201, ok.text
