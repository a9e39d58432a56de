"""`techauction demo`: seed a live session through the HTTP API and run it with simulated bidders.

Everything goes over HTTP (httpx) to a running server, as a real client would: an institute with
approved listings, verified enterprises (admin-created organisations are verified at once), a
live session of short lots, session registrations approved with one paddle each, then bidders
that raise by random increments, some in the last seconds (each such bid extends the lot by the
soft close), until the session finishes. Only the admin's credentials come from outside.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from rich.markup import escape

API = "/api/v1"
Say = Callable[[str], None]

LISTINGS = (
    ("Design and development of a medium-power new-energy simulation test platform "
     "(中功率新能源仿真测试平台设计与开发)", "new_energy", "patent", "2000000.00",
     "A bench that emulates medium-power photovoltaic, storage and charging systems for testing."),
    ("Solid-state electrolyte for fast-charging lithium batteries (快充锂电池固态电解质)",
     "new_energy", "patent", "1500000.00", "A sulfide electrolyte with high ionic conductivity."),
    ("Machine-vision inspection of wafer surface defects (晶圆表面缺陷机器视觉检测)",
     "integrated_circuits", "software_copyright", "800000.00",
     "Deep-learning detection of scratches and particles on 12-inch wafers."),
    ("Biodegradable vascular stent coating (可降解血管支架涂层)", "biomedicine", "patent",
     "1200000.00", "A drug-eluting magnesium-alloy stent coating that degrades within a year."),
    ("Low-latency 5G industrial gateway (低时延5G工业网关)", "electronic_information",
     "patent", "600000.00", "An edge gateway bridging fieldbus devices to private 5G networks."),
)


@dataclass(frozen=True)
class DemoOptions:
    url: str = "http://127.0.0.1:8000"
    lots: int = 5
    lot_seconds: int = 30
    gap_seconds: int = 5
    bidders: int = 4
    seed: int | None = None
    lead_seconds: float = 5.0  # from creating the session to its first lot opening
    poll_seconds: float = 0.25


@dataclass
class _Bidder:
    name: str
    headers: dict[str, str]
    paddle: str = ""


@dataclass
class _LotWatch:
    ceiling: Decimal  # the most the simulated bidders will pay for this lot
    ends_at: datetime | None = None
    extensions: int = 0
    leader: str | None = None
    bids: int = 0


@dataclass
class DemoResult:
    session_id: int
    room_urls: list[str]
    results: dict = field(default_factory=dict)


def password() -> str:
    """A long random passphrase (far above the zxcvbn policy's threshold)."""
    return f"demo-{secrets.token_urlsafe(24)}"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class DemoError(RuntimeError):
    """The server refused a set-up step (the message names the step and the answer)."""


class Demo:
    def __init__(self, client: httpx.AsyncClient, options: DemoOptions, say: Say) -> None:
        self.client, self.options, self.say = client, options, say
        self.random = random.Random(options.seed)
        self.tag = secrets.token_hex(3)
        self.admin: dict[str, str] = {}

    async def call(self, method: str, path: str, *, expect: int, headers: dict | None = None,
                   **kwargs) -> dict:
        response = await self.client.request(method, f"{API}{path}", headers=headers, **kwargs)
        if response.status_code != expect:
            raise DemoError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json()

    async def sign_in(self, email: str, secret: str) -> dict[str, str]:
        body = await self.call("POST", "/auth/token", expect=200,
                               data={"username": email, "password": secret})
        return {"Authorization": f"Bearer {body['access_token']}"}

    async def user(self, role: str, kind: str, name: str) -> dict[str, str]:
        """A new organisation of the kind (verified: the admin made it) and its signed-in user."""
        org = await self.call("POST", "/organizations", expect=201, headers=self.admin,
                              json={"name": f"{name} [{self.tag}]", "kind": kind})
        email, secret = f"demo-{role}-{org['id']}-{self.tag}@example.com", password()
        await self.call("POST", "/users", expect=201, headers=self.admin, json={
            "email": email, "password": secret, "role": role, "organization_id": org["id"]})
        return await self.sign_in(email, secret)

    async def listings(self) -> list[int]:
        institute = await self.user("institute", "institute", "G60 Demo Institute of Technology")
        ids = []
        for n in range(self.options.lots):
            title, field_, ip_type, price, summary = LISTINGS[n % len(LISTINGS)]
            if n >= len(LISTINGS):
                title = f"{title} #{n + 1}"
            body = {"title": title, "summary": summary, "field": field_, "ip_type": ip_type,
                    "patent_numbers": [f"CN2023{self.random.randrange(10**7, 10**8)}.{n % 10}"],
                    "trl": 6, "transfer_mode": "assignment", "starting_price": price,
                    "currency": "CNY"}
            listing = await self.call("POST", "/listings", expect=201, headers=institute, json=body)
            await self.call("POST", f"/listings/{listing['id']}/submit", expect=200, headers=institute)
            await self.call("POST", f"/listings/{listing['id']}/approve", expect=200, headers=self.admin)
            ids.append(listing["id"])
        return ids

    async def session(self, listing_ids: list[int]) -> dict:
        o = self.options
        window = max(1, o.lot_seconds // 6)
        event = await self.call("POST", "/sessions", expect=201, headers=self.admin, json={
            "title": f"G60 sci-tech outcomes demo session {self.tag}", "mode": "live",
            "description": "A demonstration: simulated enterprises bid on five approved listings.",
            "starts_at": _iso(datetime.now(UTC) + timedelta(seconds=o.lead_seconds)),
            "lot_duration_seconds": o.lot_seconds, "lot_gap_seconds": o.gap_seconds,
            "deposit_amount": "100000.00", "bid_increment": "50000.00",
            "anti_sniping": {"window_seconds": window, "extension_seconds": window,
                             "max_extension_seconds": max(2, o.lot_seconds)},
            "buyer_premium_rate": "0.05", "seller_commission_rate": "0.03", "payment_days": 30,
        })
        for listing_id in listing_ids:
            await self.call("POST", f"/sessions/{event['id']}/lots", expect=201, headers=self.admin,
                            json={"listing_id": listing_id})
        await self.call("POST", f"/sessions/{event['id']}/publish", expect=200, headers=self.admin)
        return event

    async def register(self, session_id: int, bidders: list[_Bidder]) -> None:
        for n, bidder in enumerate(bidders, 1):
            reg = await self.call("POST", f"/sessions/{session_id}/registrations", expect=201,
                                  headers=bidder.headers)
            approved = await self.call(
                "POST", f"/sessions/{session_id}/registrations/{reg['id']}/approve", expect=200,
                headers=self.admin, json={"deposit_reference": f"DEMO-{session_id}-{n}-{self.tag}"})
            bidder.paddle = approved["paddle"]

    async def bid(self, lot: dict, watch: _LotWatch, bidders: list[_Bidder], *, late: bool) -> None:
        rivals = [b for b in bidders if b.paddle != watch.leader] or bidders
        bidder = self.random.choice(rivals)
        increment = Decimal(lot["bid_increment"])
        if not lot["bid_count"]:
            amount = Decimal(lot["starting_price"])
        else:
            amount = Decimal(lot["current_price"]) + increment * self.random.choice((1, 1, 2, 3))
        if amount > watch.ceiling and lot["bid_count"]:
            return
        response = await self.client.post(f"{API}/auctions/{lot['auction_id']}/bids",
                                          json={"amount": f"{amount:.2f}"}, headers=bidder.headers)
        if response.status_code != 201:
            self.say(f"[dim]  paddle {bidder.paddle}: bid of {amount:,.2f} refused "
                     f"({response.status_code})[/dim]")
            return
        placed = response.json()
        watch.leader, watch.bids = placed["paddle"], watch.bids + 1
        mark = " [bold magenta]last-second![/bold magenta]" if late else ""
        self.say(f"  lot {lot['lot_number']}: [bold]{amount:,.2f}[/bold] CNY by paddle "
                 f"[cyan]{placed['paddle']}[/cyan]{mark}")
        self.note_end(lot["lot_number"], watch, _time(placed["ends_at"]))

    def note_end(self, lot_number: int, watch: _LotWatch, ends_at: datetime) -> None:
        if watch.ends_at is not None and ends_at > watch.ends_at:
            watch.extensions += 1
            moved = (ends_at - watch.ends_at).total_seconds()
            self.say(f"  [yellow]lot {lot_number} extended by the soft close: +{moved:.2f} s, now ends "
                     f"{ends_at:%H:%M:%S} UTC (extension {watch.extensions})[/yellow]")
        watch.ends_at = ends_at if watch.ends_at is None else max(watch.ends_at, ends_at)

    async def simulate(self, event: dict, bidders: list[_Bidder]) -> None:
        """Bid on each open lot until the session finishes (bounded by its longest schedule)."""
        o = self.options
        window = event["anti_sniping"]["window_seconds"]
        ticks_per_lot = max(1.0, o.lot_seconds / o.poll_seconds)
        chance = min(0.9, max(0.15, 6 / ticks_per_lot))  # about six bids a lot before the window
        late_chance = min(0.5, 1.5 * o.poll_seconds / max(window, o.poll_seconds))  # ~1.5 a window
        watches: dict[int, _LotWatch] = {}
        announced: dict[int, str] = {}
        seen: dict[int, str] = {}
        limit = o.lead_seconds + o.lots * (2 * o.lot_seconds + o.gap_seconds + 5) + 60
        async with asyncio.timeout(limit):
            while True:
                state = await self.call("GET", f"/sessions/{event['id']}", expect=200)
                done = state["status"] in ("finished", "cancelled")
                for lot in state["lots"]:
                    # an outcome is told once two reads (or the finished session) agree on it
                    if done or lot["status"] == "open" or seen.get(lot["lot_number"]) == lot["status"]:
                        self.announce(lot, watches, announced)
                    seen[lot["lot_number"]] = lot["status"]
                if done:
                    self.say(f"session {event['id']} {state['status']}")
                    return
                if (lot := next((x for x in state["lots"] if x["status"] == "open"), None)) is not None:
                    await self.tick(state, lot, watches[lot["lot_number"]], bidders,
                                    window=window, chances=(chance, late_chance))
                await asyncio.sleep(o.poll_seconds)

    async def tick(self, state: dict, lot: dict, watch: _LotWatch, bidders: list[_Bidder], *,
                   window: int, chances: tuple[float, float]) -> None:
        """Maybe one bid on the open lot: its first at once, then by chance (late ones extend it)."""
        if not lot["ends_at"]:
            return
        self.note_end(lot["lot_number"], watch, _time(lot["ends_at"]))
        now = _time(state["server_time"]) if state.get("server_time") else datetime.now(UTC)
        left = (watch.ends_at - now).total_seconds()
        late = 0 < left <= window
        if left > 0 and (not lot["bid_count"] or self.random.random() < chances[late]):
            await self.bid(lot, watch, bidders, late=late)

    def announce(self, lot: dict, watches: dict[int, _LotWatch], announced: dict[int, str]) -> None:
        number, status = lot["lot_number"], lot["status"]
        if announced.get(number) in (status, "sold", "passed", "withdrawn") or status == "queued":
            return
        announced[number] = status
        if status == "open":
            start = Decimal(lot["starting_price"])
            watches[number] = _LotWatch(ceiling=start * Decimal(str(self.random.uniform(1.2, 2.2))))
            self.say(f"[bold green]lot {number} open[/bold green]: {escape(lot['title'])} from "
                     f"{start:,.2f} CNY; watch {self.options.url}/auctions/{lot['auction_id']}")
        elif status == "sold":
            watch = watches.get(number)
            extra = f", {watch.extensions} extension(s)" if watch else ""
            paddle = f" to paddle {watch.leader}" if watch and watch.leader else ""
            self.say(f"[bold]lot {number} sold[/bold] at {Decimal(lot['hammer_price']):,.2f} CNY"
                     f"{paddle}{extra}")
        else:
            self.say(f"[bold]lot {number} {status}[/bold]")


async def run_demo(options: DemoOptions, *, admin_email: str, admin_password: str,
                   say: Say = print) -> DemoResult:
    """Seed and run one live demo session on the server at options.url; its results."""
    async with httpx.AsyncClient(base_url=options.url, timeout=httpx.Timeout(30.0)) as client:
        demo = Demo(client, options, say)
        demo.admin = await demo.sign_in(admin_email, admin_password)
        say("seeding an institute, its approved listings and verified enterprises ...")
        listing_ids = await demo.listings()
        bidders = [_Bidder(f"Demo Enterprise {n}", await demo.user(
            "enterprise", "enterprise", f"Demo Enterprise {n}")) for n in range(1, options.bidders + 1)]
        event = await demo.session(listing_ids)
        await demo.register(event["id"], bidders)
        lots = await demo.call("GET", f"/sessions/{event['id']}", expect=200)
        rooms = [f"{options.url}/auctions/{lot['auction_id']}" for lot in lots["lots"]]
        say(f"[bold]live session {event['id']}[/bold] of {options.lots} lots, "
            f"{options.bidders} bidders (paddles {', '.join(b.paddle for b in bidders)})")
        say(f"watch the room in a browser: [link={rooms[0]}]{rooms[0]}[/link] (lot 1; lot k is "
            f"announced as it opens); the session: {options.url}{API}/sessions/{event['id']}")
        await demo.simulate(event, bidders)
        results = await demo.call("GET", f"/sessions/{event['id']}/results", expect=200)
        for lot in results["lots"]:
            hammer = f" at {Decimal(lot['hammer_price']):,.2f} CNY to paddle {lot['winning_paddle']}" \
                if lot["outcome"] == "sold" else ""
            say(f"  lot {lot['lot_number']} {lot['outcome']}{hammer}: {escape(lot['title'])}")
        totals = results["totals"]
        say(f"results: {totals['sold']} sold, {totals['passed']} passed, turnover "
            f"{totals['turnover']} CNY ({options.url}{API}/sessions/{event['id']}/results)")
        return DemoResult(event["id"], rooms, results)
