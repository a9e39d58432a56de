"""Failed sign-ins are limited per email and client address, and per client address: an
attacker cannot lock the owner out of his account, nor try many accounts from one address."""

import pytest

from app.security import Role
from tests.accounts.support import client_from, sign_in_answer
from tests.support.actors import PASSWORD

PER_ACCOUNT, PER_ADDRESS = 3, 5


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={
        "login_attempts_per_minute": PER_ACCOUNT, "login_attempts_per_address_per_minute": PER_ADDRESS,
    })


def assert_limited(response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_an_attacker_cannot_lock_the_owner_out(actors, app):
    owner = await actors.user(Role.enterprise)
    async with client_from(app, "203.0.113.66") as attacker:
        for _ in range(PER_ACCOUNT):
            assert (await sign_in_answer(attacker, owner.email, "guess-guess")).status_code == 401
        assert_limited(await sign_in_answer(attacker, owner.email, "guess-guess"))
        # Past its limit, the attacker's address is refused even the right password.
        assert_limited(await sign_in_answer(attacker, owner.email, PASSWORD))
    async with client_from(app, "198.51.100.7") as home:
        assert (await sign_in_answer(home, owner.email, PASSWORD)).status_code == 200


async def test_one_address_cannot_try_many_accounts(actors, app):
    victims = [await actors.user(Role.enterprise) for _ in range(PER_ADDRESS + 1)]
    async with client_from(app, "203.0.113.99") as attacker:
        for victim in victims[:PER_ADDRESS]:
            assert (await sign_in_answer(attacker, victim.email, "guess-guess")).status_code == 401
        assert_limited(await sign_in_answer(attacker, victims[-1].email, "guess-guess"))
        assert_limited(await sign_in_answer(attacker, victims[-1].email, PASSWORD))
    async with client_from(app, "198.51.100.8") as owner:
        assert (await sign_in_answer(owner, victims[-1].email, PASSWORD)).status_code == 200


async def test_successful_sign_ins_do_not_count(actors, app):
    """Many bidders of one enterprise sign in from one address (a NAT)."""
    users = [await actors.user(Role.enterprise) for _ in range(2)]
    async with client_from(app, "192.0.2.10") as office:
        for _ in range(PER_ADDRESS + 1):
            for user in users:
                assert (await sign_in_answer(office, user.email, PASSWORD)).status_code == 200


async def test_the_email_is_counted_whatever_its_case_and_padding(actors, app):
    owner = await actors.user(Role.enterprise)
    spellings = [owner.email.upper(), f" {owner.email} ", owner.email]
    async with client_from(app, "203.0.113.5") as attacker:
        for spelling in spellings[:PER_ACCOUNT]:
            assert (await sign_in_answer(attacker, spelling, "guess-guess")).status_code == 401
        assert_limited(await sign_in_answer(attacker, owner.email.title(), "guess-guess"))


async def test_unknown_emails_count_like_known_ones(app):
    async with client_from(app, "203.0.113.77") as attacker:
        for _ in range(PER_ACCOUNT):
            assert (await sign_in_answer(attacker, "nobody@example.com", PASSWORD)).status_code == 401
        assert_limited(await sign_in_answer(attacker, "nobody@example.com", PASSWORD))
