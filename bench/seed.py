"""Seed the bench through the real API: admin, institute, listings, auctions, qualified bidders."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from bench.stack import Stack, plain_url

API = "/api/v1"
PASSWORD = "bench-passw0rd"
STARTING_PRICE_CENTS = 100_000  # "1000.00"; the increment is "0.01" (see lua/bids.lua)
BIDDERS_PER_LOT = 16  # in the 100-lot scenario each lot has this many qualified bidders
CONCURRENCY = 8

# (c)'s own tables, made here with plain SQL (not in the app's migrations): the bids table
# has the real trail's columns and indexes; the state row holds the current price.
PG_BASELINE_SQL = """
CREATE TABLE bench_pg_bids (LIKE bids INCLUDING ALL);
CREATE TABLE bench_pg_state (
    auction_id bigint PRIMARY KEY REFERENCES auctions (id),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    win interval NOT NULL,
    ext interval NOT NULL,
    hard_close timestamptz,
    current_price numeric(15, 2),
    leader_org bigint,
    seq bigint NOT NULL DEFAULT 0,
    bid_count integer NOT NULL DEFAULT 0
);
INSERT INTO bench_pg_state (auction_id, starts_at, ends_at, win, ext, hard_close)
SELECT a.id, r.starts_at, r.ends_at, make_interval(secs => a.window_seconds),
       make_interval(secs => a.extension_seconds), a.hard_close_at
  FROM auctions a JOIN auction_rounds r ON r.auction_id = a.id AND r.round_index = 0;
"""


@dataclass
class Seed:
    tokens: list[str]
    hot: int
    lots: list[tuple[int, list[int]]]  # (auction id, indexes into tokens of its bidders)
    epoch_us: int

    def write_lua(self, path: Path) -> None:
        """The data file read by lua/bids.lua (1-based bidder indexes)."""

        def lot(auction_id: int, bidders: list[int]) -> str:
            return f"{{id={auction_id}, bidders={{{','.join(str(b + 1) for b in bidders)}}}}}"

        hot_bidders = list(range(len(self.tokens)))
        lines = [
            "return {",
            f"  base_cents = {STARTING_PRICE_CENTS}, epoch_us = {self.epoch_us},",
            "  tokens = {" + ",".join(f'"{t}"' for t in self.tokens) + "},",
            f"  hot = {lot(self.hot, hot_bidders)},",
            "  lots = {" + ",\n    ".join(lot(a, b) for a, b in self.lots) + "},",
            "}",
        ]
        path.write_text("\n".join(lines) + "\n")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Seeder:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.admin: dict[str, str] = {}
        self.gate = asyncio.Semaphore(CONCURRENCY)

    async def call(self, method: str, path: str, *, expect: int, **kwargs) -> dict:
        async with self.gate:
            response = await self.client.request(method, path, **kwargs)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json()

    async def sign_in(self, email: str) -> dict[str, str]:
        body = await self.call("POST", f"{API}/auth/token", expect=200,
                               data={"username": email, "password": PASSWORD})
        return {"Authorization": f"Bearer {body['access_token']}"}

    async def user(self, role: str, kind: str) -> tuple[dict[str, str], str]:
        """A new organisation of the kind with one signed-in user; headers and raw token."""
        name = f"bench-{kind}-{uuid.uuid4().hex[:10]}"
        org = await self.call("POST", f"{API}/organizations", expect=201, headers=self.admin,
                              json={"name": name, "kind": kind})
        email = f"{name}@example.com"
        await self.call("POST", f"{API}/users", expect=201, headers=self.admin,
                        json={"email": email, "password": PASSWORD, "role": role,
                              "organization_id": org["id"]})
        headers = await self.sign_in(email)
        return headers, headers["Authorization"].removeprefix("Bearer ")

    async def auction(self, institute: dict[str, str], number: int) -> int:
        """An approved listing and a long English auction of it that nothing will close."""
        listing = await self.call("POST", f"{API}/listings", expect=201, headers=institute, json={
            "title": f"Bench lot {number}: medium-power new-energy simulation test platform",
            "summary": "A lot created by techauction bench.", "field": "new_energy",
            "ip_type": "patent", "patent_numbers": [f"CN2023{number:08d}.5"], "trl": 6,
            "transfer_mode": "assignment", "starting_price": "1000.00", "currency": "CNY",
        })
        for action, who in (("submit", institute), ("approve", self.admin)):
            await self.call("POST", f"{API}/listings/{listing['id']}/{action}", expect=200,
                            headers=who)
        now = datetime.now(UTC)
        body = {
            "listing_id": listing["id"],
            "rounds": [{"kind": "english", "starts_at": _iso(now - timedelta(seconds=1)),
                        "ends_at": _iso(now + timedelta(days=1))}],
            "bid_increment": "0.01", "deposit_amount": "100.00",
            "anti_sniping": {"window_seconds": 60, "extension_seconds": 60,
                             "hard_close_at": _iso(now + timedelta(days=29))},
            "buyer_premium_rate": "0.05", "seller_commission_rate": "0.03", "payment_days": 30,
        }
        created = await self.call("POST", f"{API}/auctions", expect=201, headers=self.admin,
                                  json=body)
        return created["id"]

    async def qualify(self, auction_id: int, bidder: dict[str, str]) -> None:
        reg = await self.call("POST", f"{API}/auctions/{auction_id}/registrations", expect=201,
                              headers=bidder)
        await self.call("POST", f"{API}/auctions/{auction_id}/registrations/{reg['id']}/approve",
                        expect=200, headers=self.admin,
                        json={"deposit_reference": f"BENCH-{auction_id}-{reg['id']}"})


    async def qualify_all(self, auction_id: int, bidders: list[dict[str, str]]) -> None:
        for bidder in bidders:
            await self.qualify(auction_id, bidder)


async def seed(stack: Stack, *, bidders: int, lots: int, log: Callable[[str], None]) -> Seed:
    """Everything the scenarios need, made through the HTTP API (admin via the CLI)."""
    admin_email = f"bench-admin-{stack.token}@example.com"
    await asyncio.to_thread(stack.run_cli, "create-admin", "--email", admin_email,
                            "--password", PASSWORD)
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as client:
        seeder = Seeder(client)
        seeder.admin = await seeder.sign_in(admin_email)
        institute, _ = await seeder.user("institute", "institute")
        people = await _all(seeder.user("enterprise", "enterprise") for _ in range(bidders))
        log(f"seeded {bidders} enterprise bidders")
        auctions = await _all(seeder.auction(institute, n) for n in range(lots + 1))
        hot, lot_ids = auctions[0], auctions[1:]
        log(f"seeded {lots + 1} approved listings and open English auctions")
        per_lot = min(bidders, BIDDERS_PER_LOT)
        plan = [(hot, list(range(bidders)))] + [
            (lot_id, [(i * per_lot + j) % bidders for j in range(per_lot)])
            for i, lot_id in enumerate(lot_ids)
        ]
        # One auction's bidders one after another, auctions in parallel (as admins do it).
        await _all(seeder.qualify_all(a, [people[b][0] for b in group]) for a, group in plan)
        log(f"qualified {sum(len(g) for _, g in plan)} registrations "
            f"({time.monotonic() - started:.0f} s)")
    conn = await asyncpg.connect(plain_url(stack.database_url))
    try:
        await conn.execute(PG_BASELINE_SQL)
    finally:
        await conn.close()
    return Seed(tokens=[token for _, token in people], hot=hot, lots=plan[1:],
                epoch_us=time.time_ns() // 1000)


async def _all(calls) -> list:
    """Run the coroutines (bounded by the seeder's gate); first failure wins."""
    coros: list[Awaitable] = list(calls)
    return list(await asyncio.gather(*coros))
