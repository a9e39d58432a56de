"""A deposit qualifies one registration, however its reference is spelt: the service refuses
a reference used before in another case or with spaces (409), and so does the database."""

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.auctions.models import Registration
from app.security import Role
from tests.support.auctions import API, create_auction


async def _pending(actors, auction_id: int) -> int:
    bidder = await actors.user(Role.enterprise)
    reg = await actors.client.post(f"{API}/auctions/{auction_id}/registrations",
                                   headers=bidder.headers)
    assert reg.status_code == 201, reg.text
    return reg.json()["id"]


async def _approve(actors, auction_id: int, registration_id: int, reference: str):
    return await actors.client.post(
        f"{API}/auctions/{auction_id}/registrations/{registration_id}/approve",
        json={"deposit_reference": reference}, headers=actors.admin.headers)


async def test_a_deposit_reference_spelt_otherwise_is_refused(actors) -> None:
    first, second = (await create_auction(actors))["id"], (await create_auction(actors))["id"]
    used = await _approve(actors, first, await _pending(actors, first), "DEP-Abc-001")
    assert used.status_code == 200, used.text
    for reference in ("dep-abc-001", "DEP-ABC-001", "  dep-Abc-001 "):
        for auction_id in (first, second):
            registration_id = await _pending(actors, auction_id)
            again = await _approve(actors, auction_id, registration_id, reference)
            assert again.status_code == 409, again.text
            assert again.json()["code"] == "deposit_already_used"
            still = await actors.client.get(
                f"{API}/auctions/{auction_id}/registrations/{registration_id}",
                headers=actors.admin.headers)
            assert still.json()["status"] == "pending"
    other = await _approve(actors, second, await _pending(actors, second), "DEP-Abc-002")
    assert other.status_code == 200, other.text


async def test_the_database_refuses_one_deposit_for_two_registrations(app, actors) -> None:
    auction_id = (await create_auction(actors))["id"]
    first = await _pending(actors, auction_id)
    assert (await _approve(actors, auction_id, first, "WIRE-77")).status_code == 200
    second = await _pending(actors, auction_id)
    async with app.state.sessionmaker() as session:
        for reference, key in (("wire-77", "wire-77"), (" WIRE-77 ", "wire-77"),
                               ("WIRE-77", "WIRE-77"), ("wire-77", "other")):
            # the same key twice, or a key that is not the reference's own
            with pytest.raises(IntegrityError):
                async with session.begin():
                    await session.execute(update(Registration).where(
                        Registration.id == second).values(
                            deposit_reference=reference, deposit_reference_key=key))
