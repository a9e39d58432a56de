"""Helpers of the account tests: clients from other addresses, valid registration codes, the
audit ledger's entries."""

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import select
from stdnum.cn import uscc

from app.audit.models import LedgerEntry

API = "/api/v1"
_codes = itertools.count(1)


def registration_code() -> str:
    """A new unified social credit code with a valid check character."""
    body = f"91310000{next(_codes):09d}"
    return body + uscc.calc_check_digit(body)


@asynccontextmanager
async def client_from(app, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP through the app as seen from another client address."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def ledger_actions(app, entity_type: str, entity_id: int) -> list[str]:
    """The audit ledger's actions on one entity, in order."""
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(LedgerEntry.action)
            .where(LedgerEntry.entity_type == entity_type, LedgerEntry.entity_id == entity_id)
            .order_by(LedgerEntry.sequence)
        )
        return list(rows)


async def sign_in_answer(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(f"{API}/auth/token", data={"username": email, "password": password})
