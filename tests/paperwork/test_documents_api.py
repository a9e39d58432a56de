"""The signed confirmation and auction record over HTTP: who may fetch them, what they state
(the settlement's amounts to the cent), stored once with their SHA-256 in the audit ledger,
and a signature that pyHanko and poppler's pdfsig validate."""

import asyncio
import hashlib
import io
from decimal import Decimal

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from app.paperwork.service import ledger_entry_for
from app.paperwork.signing import PdfSigner, signing_pem
from tests.paperwork.support import pdf_text, pdfsig
from tests.support.auctions import API, approved_listing, create_auction
from tests.support.settlements import ledger_actions, sale_world, verify_ok


@pytest.fixture
async def world(app, actors):
    return await sale_world(app, actors, [("alice", "2000000.00"), ("bob", "2100500.00")])


CONFIRMATION_READERS = {"admin": True, "auditor": True, "owner": True, "buyer": True,
                        "other_institute": False, "loser": False, "outsider": False}
RECORD_READERS = {"admin": 200, "auditor": 200, "owner": 200, "buyer": 403,
                  "other_institute": 404, "loser": 403, "outsider": 403}


def money(value: str) -> str:
    return f"CNY {Decimal(value):,.2f}"


async def test_confirmation_access_and_one_stored_copy(app, client, world):
    s = world["settlement"]
    url = f"{API}/settlements/{s['id']}/confirmation.pdf"
    assert (await client.get(url)).status_code == 401
    bodies = set()
    for who, may_read in CONFIRMATION_READERS.items():
        response = await client.get(url, headers=world[who].headers)
        if not may_read:
            assert response.status_code == 404, who
            assert response.json()["code"] == "settlement_not_found", who
            continue
        assert response.status_code == 200, (who, response.text)
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-sha256"] == hashlib.sha256(response.content).hexdigest()
        bodies.add(response.content)
    assert len(bodies) == 1  # made once, the same bytes for everyone after
    digest = hashlib.sha256(bodies.pop()).hexdigest()
    entries = await ledger_actions(client, world["admin"].headers, action="paperwork.confirmation_signed")
    assert len(entries) == 1
    assert entries[0]["entity_id"] == s["id"] and digest in str(entries[0]["payload"])
    await verify_ok(client, world["admin"].headers)
    missing = await client.get(f"{API}/settlements/999999/confirmation.pdf", headers=world["admin"].headers)
    assert missing.status_code == 404


async def test_confirmation_states_the_settlement_to_the_cent(app, client, world):
    s = world["settlement"]
    response = await client.get(f"{API}/settlements/{s['id']}/confirmation.pdf",
                                headers=world["buyer"].headers)
    text = pdf_text(response.content)
    for field in ("hammer_price", "buyer_premium", "seller_commission", "deposit_applied", "amount_due"):
        assert money(s[field]) in text, field
    assert s["due_date"] in text and s["paddle"] in text
    assert f"{Decimal(s['buyer_premium_rate']) * 100:.2f}%" in text
    assert f"{Decimal(s['seller_commission_rate']) * 100:.2f}%" in text
    assert s["buyer"]["name"] in text and s["seller"]["name"] in text
    assert "成交确认书" in text and "Transaction Confirmation" in text
    # 2,100,500 hammer + premium - deposit: whatever the amount, its capital numerals are there
    from app.paperwork.numerals import capital_yuan
    assert capital_yuan(Decimal(s["amount_due"])) in text.replace(" ", "")


async def test_signature_validates_with_pyhanko_and_pdfsig(app, client, world, settings, tmp_path):
    s = world["settlement"]
    data = (await client.get(f"{API}/settlements/{s['id']}/confirmation.pdf",
                             headers=world["admin"].headers)).content
    root = PdfSigner(signing_pem(settings)).trust_root
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
    status = await async_validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert status.coverage is SignatureCoverageLevel.ENTIRE_FILE
    out = pdfsig(data, tmp_path / "confirmation.pdf")
    assert "Signature Validation: Signature is Valid." in out, out
    tampered = bytearray(data)
    tampered[len(data) // 3] ^= 0x01
    out = pdfsig(bytes(tampered), tmp_path / "tampered.pdf")
    assert "Signature is Valid." not in out, out


async def test_record_access_every_bid_and_ledger(app, client, world):
    sale = world["sale"]
    url = f"{API}/auctions/{sale.auction_id}/record.pdf"
    for who, status in RECORD_READERS.items():
        response = await client.get(url, headers=world[who].headers)
        assert response.status_code == status, (who, response.text)
    data = (await client.get(url, headers=world["auditor"].headers)).content
    text = pdf_text(data)
    bids = (await client.get(f"{API}/auctions/{sale.auction_id}/bids",
                             headers=world["admin"].headers)).json()["items"]
    assert len(bids) == 2
    lines = [line for line in text.splitlines() if "online" in line and "CNY" in line]
    assert len(lines) == 2, text
    by_sequence = sorted(bids, key=lambda b: b["sequence"])
    for line, bid in zip(lines, by_sequence, strict=True):  # in order, each with its paddle and amount
        assert bid["paddle"] in line and money(bid["amount"]) in line, (line, bid)
    entries = await ledger_actions(client, world["admin"].headers, action="paperwork.record_signed")
    assert [e["entity_id"] for e in entries] == [sale.auction_id]
    assert hashlib.sha256(data).hexdigest() in str(entries[0]["payload"])


async def test_record_of_an_open_auction_is_refused(app, client, actors):
    listing_id = await approved_listing(actors)
    auction = await create_auction(actors, listing_id=listing_id, starts_in=60, lasts=60)
    response = await client.get(f"{API}/auctions/{auction['id']}/record.pdf", headers=actors.admin.headers)
    assert response.status_code == 409 and response.json()["code"] == "auction_not_closed"
    missing = await client.get(f"{API}/auctions/999999/record.pdf", headers=actors.admin.headers)
    assert missing.status_code == 404


async def test_concurrent_first_requests_store_one_copy(app, client, world):
    """Racing first requests: each renders, one stores; all answer the stored bytes, and the
    ledger holds one entry, whose digest the CLI's --ledger look-up finds."""
    s = world["settlement"]
    url = f"{API}/settlements/{s['id']}/confirmation.pdf"
    responses = await asyncio.gather(*(client.get(url, headers=world[who].headers)
                                       for who in ("admin", "auditor", "buyer", "owner")))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    entries = await ledger_actions(client, world["admin"].headers, action="paperwork.confirmation_signed")
    assert len(entries) == 1
    async with app.state.sessionmaker() as session:
        entry = await ledger_entry_for(session, responses[0].headers["x-content-sha256"])
        assert entry is not None and entry.entity_id == s["id"]
        assert await ledger_entry_for(session, "0" * 64) is None
