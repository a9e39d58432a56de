"""Helpers of the export tests: expected rows read through the ORM, parsing, downloading."""

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.identity.models import Organization
from app.listings.models import Listing
from app.schemas import format_money, format_timestamp
from app.settlements.models import Settlement

API = "/api/v1"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
STEP_MS = 3_600_000 + 123  # an hour and some milliseconds between settlements
ROWS = 12
TRICKY_TITLE = 'Design, "quoted" and\r\nmulti-line\n中文 outcome \\ with a backslash,\ttab \x01 \U0001f600'
TRICKY_BUYER = 'Buyer "Ltd", Shanghai'


async def expected_rows(app, *, institute: int | None = None, created_from=None, created_to=None):
    """The settlements as an auditor should see them, read through the ORM (not the export)."""
    institute_org, buyer_org = aliased(Organization), aliased(Organization)
    stmt = (
        select(Settlement, Listing.title, institute_org.name, buyer_org.name)
        .join(Listing, Listing.id == Settlement.listing_id)
        .join(institute_org, institute_org.id == Settlement.institute_organization_id)
        .join(buyer_org, buyer_org.id == Settlement.buyer_organization_id)
        .order_by(Settlement.created_at, Settlement.id)
    )
    if institute is not None:
        stmt = stmt.where(Settlement.institute_organization_id == institute)
    if created_from is not None:
        stmt = stmt.where(Settlement.created_at >= created_from)
    if created_to is not None:
        stmt = stmt.where(Settlement.created_at < created_to)
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(stmt)).all()
    return [{
        "settlement_id": s.id, "created_at": format_timestamp(s.created_at),
        "auction_id": s.auction_id, "attempt": s.attempt, "second_chance_of_id": s.second_chance_of_id,
        "listing_id": s.listing_id, "listing_title": title,
        "institute_organization_id": s.institute_organization_id, "institute_name": institute_name,
        "buyer_organization_id": s.buyer_organization_id, "buyer_name": buyer_name,
        "paddle": s.paddle, "currency": s.currency, "hammer_price": format_money(s.hammer_price),
        "buyer_premium_rate": f"{s.buyer_premium_rate:f}", "buyer_premium": format_money(s.buyer_premium),
        "seller_commission_rate": f"{s.seller_commission_rate:f}",
        "seller_commission": format_money(s.seller_commission),
        "deposit_applied": format_money(s.deposit_applied), "amount_due": format_money(s.amount_due),
        "due_date": s.due_date.isoformat(), "status": s.status.value, "bid_count": s.bid_count,
        "bid_trail_sha256": s.bid_trail_sha256,
    } for s, title, institute_name, buyer_name in rows]


def as_csv_strings(rows: list[dict]) -> list[dict]:
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def parse_csv(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode(), newline="")))


def parse_ndjson(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.decode().split("\n") if line]


@dataclass
class Downloaded:
    body: bytes
    manifest: dict
    headers: dict

    def save(self, directory: Path, name: str = "export") -> tuple[Path, Path]:
        """The file and its manifest as an auditor would keep them."""
        file = directory / f"{name}.{self.manifest['format']}"
        file.write_bytes(self.body)
        manifest = directory / f"{name}.manifest.json"
        manifest.write_text(json.dumps(self.manifest, indent=2))
        return file, manifest


async def download(client, headers, **params) -> Downloaded:
    """An export and, from its Link header, its manifest."""
    query = {k.rstrip("_"): v for k, v in params.items() if v is not None}
    response = await client.get(f"{API}/exports/settlements", params=query, headers=headers)
    assert response.status_code == 200, response.text
    link = response.headers["link"]
    assert link.endswith('>; rel="manifest"'), link
    url = link[1:link.index(">")]
    manifest = await client.get(url, headers=headers)
    assert manifest.status_code == 200, manifest.text
    return Downloaded(response.content, manifest.json(), dict(response.headers))
