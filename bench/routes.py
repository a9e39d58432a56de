"""The bench's endpoints under /bench, mounted by bench.app.create_bench_app (never by the app).

They run on the same app, middleware, pools and servers as the real API, so `techauction
bench` can measure the real bid endpoint side by side against:

(a) ``POST /bench/noop``: no work at all (the HTTP + framework floor);
(b) ``POST /bench/redis-script``: one trivial EVALSHA (the floor of any Redis-backed bid);
(b') ``POST /bench/redis-script-batched``: the same, through the ScriptBatcher that the bid
    script goes through (the floor of a bid sent the way the engine sends it);
(c) ``POST /bench/auctions/{id}/pg-bids``: the same English bid decided the traditional way,
    under a PostgreSQL row lock (SELECT ... FOR UPDATE on the auction row), against the
    tables ``bench_pg_state`` / ``bench_pg_bids`` that the bench creates with plain SQL in its
    own throw-away database (they are not part of the app's migrations);
``POST /bench/auctions/{id}/volatile-bids``: the real bid path with a journal that records
    nothing, to price durability (the issue's "with vs without durable journal" ratio).
"""

from decimal import Decimal
from types import SimpleNamespace

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from app.auctions.bid_route import BidRoute, IdempotencyKey
from app.auctions.engine.batcher import ScriptBatcher
from app.auctions.routes import place_bid
from app.auctions.schemas import BidCreate, BidOut
from app.db import SessionDep
from app.errors import Conflict, NotFound
from app.schemas import IdPath
from app.security import EnterpriseUser

router = APIRouter(prefix="/bench", tags=["bench"], include_in_schema=False)

FLOOR_LUA = "return 1"
_EMPTY = b"{}"

# The auction row is the lock; the current price lives in a row of bench_pg_state.
_LOCK_AND_READ = text("""
SELECT a.status, a.starting_price, a.bid_increment, s.current_price, s.leader_org, reg.paddle
  FROM auctions a
  JOIN bench_pg_state s ON s.auction_id = a.id
  LEFT JOIN registrations reg
         ON reg.auction_id = a.id AND reg.organization_id = :org AND reg.status = 'qualified'
 WHERE a.id = :auction_id
   FOR UPDATE OF a
""")

# Time is the database's clock, read after the lock is held; soft close as the rules say.
_ACCEPT = text("""
WITH t AS (SELECT clock_timestamp() AS now),
upd AS (
  UPDATE bench_pg_state s
     SET current_price = :amount, leader_org = :org, seq = s.seq + 1,
         bid_count = s.bid_count + 1,
         ends_at = CASE WHEN t.now >= s.ends_at - s.win
                        THEN GREATEST(s.ends_at, LEAST(t.now + s.ext, s.hard_close))
                        ELSE s.ends_at END
    FROM t
   WHERE s.auction_id = :auction_id AND t.now >= s.starts_at AND t.now < s.ends_at
  RETURNING s.seq, s.ends_at, t.now
)
INSERT INTO bench_pg_bids (auction_id, round_index, sequence, organization_id, paddle, amount,
                           placed_at, ends_at, placed_by_id, event_id, recorded_at)
SELECT :auction_id, 0, upd.seq, :org, :paddle, :amount, upd.now, upd.ends_at, :user_id, '',
       upd.now
  FROM upd
RETURNING id, sequence, placed_at, ends_at
""")


@router.post("/noop")
async def noop() -> Response:
    """(a) Does no work."""
    return Response(_EMPTY, media_type="application/json")


@router.post("/redis-script")
async def redis_script(request: Request) -> Response:
    """(b) One trivial EVALSHA on a hash-tagged key."""
    state = request.app.state
    await _floor_script(state)(keys=[_floor_key(state)], args=[])
    return Response(_EMPTY, media_type="application/json")


@router.post("/redis-script-batched")
async def redis_script_batched(request: Request) -> Response:
    """(b') The same EVALSHA, through the ScriptBatcher the bid script goes through."""
    state = request.app.state
    batcher = getattr(state, "bench_floor_batcher", None)
    if batcher is None:
        batcher = state.bench_floor_batcher = ScriptBatcher(state.redis, _floor_script(state))
    await batcher([_floor_key(state)], [])
    return Response(_EMPTY, media_type="application/json")


def _floor_script(state):
    """The trivial script of (b) and (b'), registered once per app."""
    script = getattr(state, "bench_floor_script", None)
    if script is None:
        script = state.bench_floor_script = state.redis.register_script(FLOOR_LUA)
    return script


def _floor_key(state) -> str:
    return f"{state.settings.redis_prefix}:{{bench}}:floor"


class _VolatileJournal:
    """A journal that keeps nothing: the bid path minus durability."""

    async def record(self, entry: object) -> int:
        return 0


_VOLATILE = _VolatileJournal()


class _VolatileRequest:
    """What place_bid reads of its request, the app's state, with the journal replaced."""

    __slots__ = ("app",)

    def __init__(self, request: Request) -> None:
        state = request.app.state
        volatile = getattr(state, "bench_volatile_app", None)
        if volatile is None:
            volatile = state.bench_volatile_app = SimpleNamespace(state=SimpleNamespace(
                engine=state.engine, sessionmaker=state.sessionmaker, journal=_VOLATILE))
        self.app = volatile


async def volatile_bid(
    request: Request, principal: EnterpriseUser, auction_id: IdPath, data: BidCreate,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The real bid endpoint, run with a journal that keeps nothing (not durable: bench only)."""
    return await place_bid(_VolatileRequest(request), principal, auction_id, data,  # type: ignore[arg-type]
                           idempotency_key)


# Read by BidRoute as the bid route is: the two differ by the journal alone.
router.add_api_route(
    "/auctions/{auction_id}/volatile-bids", volatile_bid, methods=["POST"], status_code=201,
    response_model=BidOut, route_class_override=BidRoute,
)


@router.post("/auctions/{auction_id}/pg-bids", status_code=201, response_model=BidOut)
async def pg_bid(
    session: SessionDep, principal: EnterpriseUser, auction_id: IdPath, data: BidCreate
) -> BidOut:
    """(c) The same English bid, decided under a PostgreSQL row lock instead of Redis."""
    org = principal.organization_id
    row = (await session.execute(_LOCK_AND_READ, {"auction_id": auction_id, "org": org})).first()
    if row is None:
        raise NotFound("No such auction.", code="auction_not_found")
    status, starting, increment, current, leader, paddle = row
    if paddle is None:
        raise Conflict("Your organization is not qualified to bid in this auction.",
                       code="not_qualified")
    if status in ("closed", "cancelled"):
        raise Conflict("The auction is closed.", code="auction_closed")
    if leader == org:
        raise Conflict("You are already the leading bidder.", code="already_leading")
    minimum: Decimal = starting if current is None else current + increment
    if data.amount < minimum:
        raise Conflict("The bid is below the minimum next bid.", code="bid_too_low")
    params = {"auction_id": auction_id, "org": org, "amount": data.amount, "paddle": paddle,
              "user_id": principal.user_id}
    accepted = (await session.execute(_ACCEPT, params)).first()
    if accepted is None:
        raise Conflict("The auction is not open.", code="auction_closed")
    bid_id, sequence, placed_at, ends_at = accepted
    return BidOut(id=bid_id, sequence=sequence, round_index=0, amount=data.amount, paddle=paddle,
                  placed_at=placed_at, ends_at=ends_at)
