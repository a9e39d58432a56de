"""Lot documents and questions in the pages, without script: the institute uploads, removes
and answers in its console; the room lists documents, opens the data room to a qualified bidder
who accepts the terms, and takes questions whose answers are public and askers anonymous."""

from contextlib import asynccontextmanager

import pytest

from app.security import Role
from tests.support.auctions import API, approved_listing, create_auction, qualified_bidder
from tests.support.documents import PDF, PNG, TEXT, sha256, stored_files
from tests.support.settlements import ledger_actions
from tests.web.pages import csrf_of, page_client, sign_in


@pytest.fixture
async def lot(actors):
    owner = await actors.user(Role.institute)
    listing_id = await approved_listing(actors, owner)
    auction = await create_auction(actors, listing_id=listing_id, starts_in=3600)
    return {"owner": owner, "listing_id": listing_id, "auction_id": auction["id"]}


@asynccontextmanager
async def signed_in(app, who):
    async with await page_client(app) as http:
        await sign_in(http, who.email)
        yield http


async def documents_of(actors, lot) -> list[dict]:
    response = await actors.client.get(f"{API}/listings/{lot['listing_id']}/documents",
                                       headers=lot["owner"].headers)
    return response.json()["items"]


async def console_upload(http, lot, data: bytes, token: str | None, visibility: str = "public"):
    fields = {"kind": "technical_report", "visibility": visibility}
    if token:
        fields["csrf_token"] = token
    return await http.post(f"/console/listings/{lot['listing_id']}/documents", data=fields,
                           files={"file": ("dossier.pdf", data, "application/pdf")})


async def test_the_institute_manages_documents_in_its_console(app, actors, lot, settings):
    async with signed_in(app, lot["owner"]) as http:
        console = await http.get("/console?lang=en")
        assert f'action="/console/listings/{lot["listing_id"]}/documents"' in console.text
        assert 'enctype="multipart/form-data"' in console.text
        token = csrf_of(console.text)
        assert (await console_upload(http, lot, PDF, None)).status_code == 403  # no CSRF token
        wrong = await console_upload(http, lot, TEXT, token)
        assert wrong.headers["location"].startswith("/console?error=unsupported_document_type")
        assert await documents_of(actors, lot) == [] and stored_files(settings.var_dir) == []
        done = await console_upload(http, lot, PDF, token, visibility="data_room")
        assert done.headers["location"].startswith("/console?notice=document_uploaded")
        [document] = await documents_of(actors, lot)
        assert document["visibility"] == "data_room" and document["sha256"] == sha256(PDF)
        console = await http.get("/console?lang=en")
        assert f'href="/documents/{document["id"]}"' in console.text
        own = await http.get(f"/documents/{document['id']}")
        assert own.status_code == 200 and own.content == PDF
        removed = await http.post(f"/console/documents/{document['id']}/delete", data={"csrf_token": token})
        assert removed.headers["location"] == "/console?notice=document_deleted"
        assert await documents_of(actors, lot) == []
    other = await actors.user(Role.institute)
    async with signed_in(app, other) as http:
        token = csrf_of((await http.get("/console")).text)
        assert (await console_upload(http, lot, PDF, token)).status_code == 403


async def test_the_room_shows_documents_and_opens_the_data_room(app, actors, client, lot):
    owner, auction_id = lot["owner"], lot["auction_id"]
    for data, visibility, name in ((PNG, "public", "plan.png"), (PDF, "data_room", "valuation.pdf")):
        response = await client.post(
            f"{API}/listings/{lot['listing_id']}/documents", headers=owner.headers,
            files={"file": (name, data, "application/octet-stream")}, data={"visibility": visibility})
        assert response.status_code == 201, response.text
    public, secret = await documents_of(actors, lot)
    async with await page_client(app) as anonymous:
        room = await anonymous.get(f"/auctions/{auction_id}?lang=en")
        assert f'href="/documents/{public["id"]}"' in room.text and "plan.png" in room.text
        assert f'href="/documents/{secret["id"]}"' not in room.text and "valuation.pdf" not in room.text
        assert f'data-document="{secret["id"]}"' in room.text and "Data room" in room.text
        assert (await anonymous.get(f"/documents/{public['id']}")).content == PNG
        assert (await anonymous.get(f"/documents/{secret['id']}")).status_code == 401
    bidder = await qualified_bidder(actors, auction_id)
    async with signed_in(app, bidder) as http:
        room = await http.get(f"/auctions/{auction_id}?lang=en")
        assert f'action="/auctions/{auction_id}/nda"' in room.text
        assert (await http.get(f"/documents/{secret['id']}")).status_code == 403
        accepted = await http.post(f"/auctions/{auction_id}/nda", data={"csrf_token": csrf_of(room.text)})
        assert accepted.headers["location"] == f"/auctions/{auction_id}?notice=terms_accepted"
        room = await http.get(f"/auctions/{auction_id}?lang=en")
        assert f'href="/documents/{secret["id"]}"' in room.text and "valuation.pdf" in room.text
        assert f'action="/auctions/{auction_id}/nda"' not in room.text
        opened = await http.get(f"/documents/{secret['id']}")
        assert opened.status_code == 200 and opened.content == PDF
    [entry] = await ledger_actions(client, actors.admin.headers, action="document.downloaded")
    assert entry["actor_id"] == bidder.user_id and entry["entity_id"] == secret["id"]


async def test_questions_in_the_room_and_answers_in_the_console(app, actors, lot):
    auction_id = lot["auction_id"]
    asker = await qualified_bidder(actors, auction_id)
    async with signed_in(app, asker) as http:
        room = await http.get(f"/auctions/{auction_id}?lang=en")
        token = csrf_of(room.text)
        short = await http.post(f"/auctions/{auction_id}/questions", data={"csrf_token": token, "text": "?"})
        assert "error=invalid_question" in short.headers["location"]
        sent = await http.post(f"/auctions/{auction_id}/questions",
                               data={"csrf_token": token, "text": "Is the test bench included?"})
        assert sent.headers["location"] == f"/auctions/{auction_id}?notice=question_sent"
        room = await http.get(f"/auctions/{auction_id}?lang=en")
        assert "Is the test bench included?" in room.text and "your question" in room.text
    async with await page_client(app) as anonymous:
        room = await anonymous.get(f"/auctions/{auction_id}?lang=en")
        assert "Is the test bench included?" not in room.text  # not answered yet
        assert 'name="text"' not in room.text  # only registered enterprises ask
    async with signed_in(app, lot["owner"]) as http:
        console = await http.get("/console?lang=en")
        assert "Is the test bench included?" in console.text and asker.email not in console.text
        question_id = int(console.text.split('data-question="')[1].split('"')[0])
        answered = await http.post(f"/console/questions/{question_id}/answer",
                                   data={"csrf_token": csrf_of(console.text), "answer": "Yes, on site."})
        assert answered.headers["location"] == "/console?notice=question_answered"
    async with await page_client(app) as anonymous:
        room = await anonymous.get(f"/auctions/{auction_id}?lang=zh")
        assert "Is the test bench included?" in room.text and "Yes, on site." in room.text
        assert asker.email not in room.text and "问答" in room.text
