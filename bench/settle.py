"""`python -m bench.settle`: settle one auction with 100,000 bids; target < 2 s (median of 3).

For each repetition it builds, outside the clock, an english auction whose 100,000-bid trail
is in PostgreSQL (bulk COPY) and in Redis (the round rebuilt from SQL the way the app does
after a Redis loss, plus the bid event stream), its round due. The clock then measures one
``close_auction``: the close script in Redis, the conditional claim in SQL, the trail check
(and recovery of ``--missing`` bids that only Redis has), the streamed SHA-256 digest of the
whole trail, the settlement, the deposits, the ledger entries and the commit.

PostgreSQL and Redis come from TECHAUCTION_DATABASE_URL / TECHAUCTION_REDIS_URL (defaults:
local servers); the bench creates a throw-away database and Redis key prefix and removes both.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
from sqlalchemy import func, make_url, select

from app import migrate
from app.auctions.engine import Engine
from app.auctions.models import (
    Auction,
    AuctionRound,
    AuctionStatus,
    Bid,
    DepositStatus,
    Registration,
    RegistrationStatus,
)
from app.auctions.trail.rebuild import load_round
from app.closing.closer import close_auction
from app.db import create_engine, create_sessionmaker
from app.identity.models import Organization, OrgKind, User
from app.listings.models import IpType, Listing, ListingStatus, TransferMode
from app.redis import create_redis
from app.security import Role
from app.settings import Settings
from app.settlements import rules
from app.settlements.models import Settlement

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
TARGET_SECONDS = 2.0
BIDDERS = 20
START_CENTS, STEP_CENTS = 100_000_000, 1_000  # 1,000,000.00 then +10.00 a bid
BID_COLUMNS = ["auction_id", "round_index", "sequence", "organization_id", "paddle", "amount",
               "placed_at", "ends_at", "placed_by_id", "idempotency_key", "event_id",
               "recorded_at"]


def _pg(url: str, database: str) -> str:
    """A plain postgresql:// URL (asyncpg's DSN) for another database on the same server."""
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(
        hide_password=False)


async def _admin(server: str, statement: str) -> None:
    conn = await asyncpg.connect(_pg(server, "postgres"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


class Bench:
    """One throw-away database and Redis prefix, and the auctions built in them."""

    def __init__(self, server: str, redis_url: str, bids: int, missing: int) -> None:
        token = secrets.token_hex(4)
        self.server, self.db_name, self.prefix = server, f"techauction_settle_{token}", f"settle-{token}"
        self.url = Settings(database_url=_pg(server, self.db_name)).sqlalchemy_url
        self.bids, self.missing = bids, missing
        self.redis = create_redis(redis_url)
        self.engine = Engine(self.redis, self.prefix)
        self.db = None
        self.sessionmaker = None

    async def start(self) -> None:
        await _admin(self.server, f'CREATE DATABASE "{self.db_name}"')
        await asyncio.to_thread(migrate.upgrade, self.url)
        self.db = create_engine(self.url)
        self.sessionmaker = create_sessionmaker(self.db)
        async with self.sessionmaker() as session, session.begin():
            self.institute = Organization(name="institute", kind=OrgKind.institute)
            self.admin = User(email="admin@bench.example", password_hash="-", role=Role.admin)
            self.bidders = [Organization(name=f"bidder-{i}", kind=OrgKind.enterprise)
                            for i in range(BIDDERS)]
            session.add_all([self.institute, self.admin, *self.bidders])
            await session.flush()
            self.users = [User(email=f"b{i}@bench.example", password_hash="-",
                               role=Role.enterprise, organization_id=org.id)
                          for i, org in enumerate(self.bidders)]
            session.add_all(self.users)

    async def auction(self) -> int:
        """A due auction with the full trail in SQL and Redis; its id."""
        self.first_bid_at = datetime.now(UTC) - timedelta(milliseconds=10 * self.bids, minutes=1)
        auction_id, paddles = await self._rows()
        await self._copy_bids(auction_id, paddles)
        async with self.sessionmaker() as session:
            await load_round(session, engine=self.engine, auction=await session.get(Auction, auction_id))
        await self._stream(auction_id, paddles)
        if self.missing:  # the last ones were accepted by Redis, their journal writes lost
            conn = await asyncpg.connect(_pg(self.server, self.db_name))
            try:
                await conn.execute("DELETE FROM bids WHERE auction_id = $1 AND sequence > $2",
                                   auction_id, self.bids - self.missing)
            finally:
                await conn.close()
        return auction_id

    async def _rows(self) -> tuple[int, list[str]]:
        now = datetime.now(UTC)
        async with self.sessionmaker() as session, session.begin():
            listing = Listing(
                organization_id=self.institute.id, created_by_id=self.admin.id, title="bench lot",
                summary="-", field="new_energy", ip_type=IpType.patent, trl=6,
                transfer_mode=TransferMode.assignment, starting_price=Decimal("1000000.00"),
                status=ListingStatus.in_auction,
            )
            session.add(listing)
            await session.flush()
            auction = Auction(
                listing_id=listing.id, created_by_id=self.admin.id, status=AuctionStatus.open,
                currency="CNY", starting_price=Decimal("1000000.00"), bid_increment=Decimal("10.00"),
                deposit_amount=Decimal("100000.00"), window_seconds=0, extension_seconds=0,
                buyer_premium_rate=Decimal("0.05"), seller_commission_rate=Decimal("0.03"),
                payment_days=30,
            )
            session.add(auction)
            await session.flush()
            session.add(AuctionRound(auction_id=auction.id, round_index=0, kind="english",
                                     starts_at=self.first_bid_at - timedelta(minutes=1),
                                     ends_at=now - timedelta(seconds=1), params={}))
            paddles = [str(1000 + i) for i in range(BIDDERS)]
            session.add_all(Registration(
                auction_id=auction.id, organization_id=org.id, applicant_id=user.id,
                status=RegistrationStatus.qualified, paddle=paddle,
                deposit_reference=f"DEP-{auction.id}-{paddle}", deposit_status=DepositStatus.held,
            ) for org, user, paddle in zip(self.bidders, self.users, paddles, strict=True))
            return auction.id, paddles

    def _bid(self, auction_id: int, i: int, paddles: list[str]) -> tuple:
        """Bid number i (0-based): bidders take turns, 10.00 up each time, 10 ms apart, the
        last one a minute before the round ended."""
        placed = self.first_bid_at + timedelta(milliseconds=10 * i)
        who = i % BIDDERS
        amount = Decimal(START_CENTS + STEP_CENTS * i) / 100
        return (auction_id, 0, i + 1, self.bidders[who].id, paddles[who], amount, placed, placed,
                self.users[who].id, None, f"{int(placed.timestamp() * 1000)}-{i}", placed)

    async def _copy_bids(self, auction_id: int, paddles: list[str]) -> None:
        rows = [self._bid(auction_id, i, paddles) for i in range(self.bids)]
        conn = await asyncpg.connect(_pg(self.server, self.db_name))
        try:
            await conn.copy_records_to_table("bids", records=rows, columns=BID_COLUMNS)
        finally:
            await conn.close()

    async def _stream(self, auction_id: int, paddles: list[str]) -> None:
        """The bid events Redis wrote as it accepted the bids (what recovery reads)."""
        key = self.engine.keys(auction_id).events
        for start in range(0, self.bids, 10_000):
            pipe = self.redis.pipeline(transaction=False)
            for i in range(start, min(start + 10_000, self.bids)):
                bid = self._bid(auction_id, i, paddles)
                ms = int(bid[6].timestamp() * 1000)
                pipe.xadd(key, {"type": "bid", "seq": i + 1, "amount": START_CENTS + STEP_CENTS * i,
                                "paddle": bid[4], "placed_at_ms": ms, "ends_at_ms": ms,
                                "round": 0})
            await pipe.execute()

    async def settle(self, auction_id: int) -> float:
        """Seconds to close, finalise and settle the auction (checked afterwards)."""
        started = time.perf_counter()
        assert await close_auction(self.engine, self.sessionmaker, auction_id)
        elapsed = time.perf_counter() - started
        async with self.sessionmaker() as session:
            settlement = await session.scalar(select(Settlement).where(Settlement.auction_id == auction_id))
            count = await session.scalar(select(func.count()).where(Bid.auction_id == auction_id))
        assert settlement is not None and settlement.bid_count == count == self.bids
        assert settlement.hammer_price == Decimal(START_CENTS + STEP_CENTS * (self.bids - 1)) / 100
        assert settlement.bid_trail_sha256 == await self._independent_digest(auction_id)
        return elapsed

    async def _independent_digest(self, auction_id: int) -> str:
        """The digest recomputed with plain asyncpg, outside the app."""
        conn = await asyncpg.connect(_pg(self.server, self.db_name))
        try:
            rows = await conn.fetch("SELECT sequence, round_index, paddle, amount, placed_at FROM bids"
                                    " WHERE auction_id = $1 ORDER BY sequence", auction_id)
        finally:
            await conn.close()
        digest = rules.TrailDigest()
        for row in rows:
            digest.add(**dict(row))
        return digest.hexdigest()

    async def close(self) -> None:
        keys = [k async for k in self.redis.scan_iter(match=f"{self.prefix}:*", count=1000)]
        if keys:
            await self.redis.delete(*keys)
        await self.redis.aclose()
        if self.db is not None:
            await self.db.dispose()
        await _admin(self.server, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


async def run(args: argparse.Namespace) -> int:
    server = os.environ.get("TECHAUCTION_DATABASE_URL") or DEFAULT_PG
    bench = Bench(server, os.environ.get("TECHAUCTION_REDIS_URL") or DEFAULT_REDIS,
                  args.bids, args.missing)
    times = []
    try:
        await bench.start()
        for rep in range(1, args.reps + 1):
            built = time.perf_counter()
            auction_id = await bench.auction()
            print(f"rep {rep}: built auction {auction_id} with {args.bids:,} bids "
                  f"({args.missing:,} only in Redis) in {time.perf_counter() - built:.1f} s",
                  file=sys.stderr, flush=True)
            times.append(await bench.settle(auction_id))
            print(f"rep {rep}: settled in {times[-1]:.3f} s", file=sys.stderr, flush=True)
    finally:
        await bench.close()
    median = statistics.median(times)
    verdict = "PASS" if median < TARGET_SECONDS else "FAIL"
    print(f"settle {args.bids:,} bids ({args.missing:,} recovered from Redis): median "
          f"{median:.3f} s of {len(times)} (runs {', '.join(f'{t:.3f}' for t in times)}); "
          f"target < {TARGET_SECONDS:.0f} s: {verdict}")
    return 0 if verdict == "PASS" else 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.settle", description=__doc__.splitlines()[0])
    parser.add_argument("--bids", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--missing", type=int, default=0,
                        help="how many of the last bids exist only in Redis (recovered at settlement)")
    args = parser.parse_args()
    if not (1 <= args.bids <= 1_000_000 and 1 <= args.reps <= 20 and 0 <= args.missing <= args.bids):
        parser.error("bids 1..1,000,000, reps 1..20, missing 0..bids")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
