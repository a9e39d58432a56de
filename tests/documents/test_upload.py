"""Uploading and downloading lot documents: the digest round trip, and refusals storing nothing."""

import asyncio
import base64

import pytest

from app.security import Role
from tests.support.auctions import API, LISTING, approved_listing
from tests.support.documents import JPEG, PDF, PNG, TEXT, sha256, stored_files, upload, uploaded
from tests.support.server import LiveServer
from tests.support.waits import wait_for


async def draft_listing(actors, institute) -> int:
    created = await actors.client.post(f"{API}/listings", json=LISTING, headers=institute.headers)
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def institute_post(client, institute, listing_id: int, boundary: str, body: bytes):
    """A multipart body written by hand (so it can be wrong), posted as the institute."""
    return await client.post(
        f"{API}/listings/{listing_id}/documents", content=body,
        headers=institute.headers | {"Content-Type": f"multipart/form-data; boundary={boundary}"})


async def document_count(client, who, listing_id: int) -> int:
    response = await client.get(f"{API}/listings/{listing_id}/documents", headers=who.headers)
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


@pytest.mark.parametrize("settings", ["files", "database"], indirect=True)
async def test_round_trip_keeps_the_bytes_and_their_digest(actors, client, settings):
    institute = await actors.user(Role.institute)
    listing_id = await draft_listing(actors, institute)
    for data, media_type in ((PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")):
        # the name and declared type are ignored: the content decides
        body = await uploaded(client, institute, listing_id, data, name="../../etc/x.bin",
                              media_type="application/octet-stream")
        assert body["sha256"] == sha256(data) and body["size_bytes"] == len(data)
        assert body["media_type"] == media_type and body["filename"] == "x.bin"
        response = await client.get(f"{API}/documents/{body['id']}", headers=institute.headers)
        assert response.status_code == 200, response.text
        assert response.content == data and response.headers["content-type"] == media_type
        assert response.headers["etag"] == f'"{sha256(data)}"'
        digest = base64.b64encode(bytes.fromhex(sha256(data))).decode()
        assert response.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert await document_count(client, institute, listing_id) == 3
    in_files = stored_files(settings.var_dir)
    assert len(in_files) == (3 if settings.document_store == "files" else 0)  # spools cleaned up


async def test_same_bytes_are_stored_once(actors, client, settings):
    institute = await actors.user(Role.institute)
    listing_id = await draft_listing(actors, institute)
    first = await uploaded(client, institute, listing_id, PDF)
    second = await uploaded(client, institute, listing_id, PDF, kind="valuation")
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert [p.name for p in stored_files(settings.var_dir)] == [sha256(PDF)]


@pytest.mark.parametrize("settings", ["files", "database"], indirect=True)
async def test_wrong_type_and_oversize_are_refused_storing_nothing(actors, client, settings):
    institute = await actors.user(Role.institute)
    listing_id = await draft_listing(actors, institute)
    wrong = await upload(client, institute, listing_id, TEXT, name="fake.pdf")
    assert wrong.status_code == 415 and wrong.json()["code"] == "unsupported_document_type"
    tiny = await upload(client, institute, listing_id, b"%PD", name="short.pdf")
    assert tiny.status_code == 415
    oversize = PDF + b"0" * (settings.document_max_bytes + 1 - len(PDF))
    too_big = await upload(client, institute, listing_id, oversize)
    assert too_big.status_code == 413 and too_big.json()["code"] == "payload_too_large"
    at_cap = await upload(client, institute, listing_id, oversize[:-1])
    assert at_cap.status_code == 201, at_cap.text  # exactly the cap is allowed
    await client.delete(f"{API}/documents/{at_cap.json()['id']}", headers=institute.headers)
    bad_kind = await upload(client, institute, listing_id, PDF, kind="secret_plans")
    assert bad_kind.status_code == 422 and bad_kind.json()["code"] == "invalid_document_fields"
    assert await document_count(client, institute, listing_id) == 0
    expected = [sha256(oversize[:-1])] if settings.document_store == "files" else []
    assert [p.name for p in stored_files(settings.var_dir)] == expected  # only the deleted one's blob


async def test_truncated_multipart_is_refused_storing_nothing(actors, client, settings):
    institute = await actors.user(Role.institute)
    listing_id = await draft_listing(actors, institute)
    boundary = "xyzzy"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + PDF  # no closing boundary
    response = await institute_post(client, institute, listing_id, boundary, body)
    assert response.status_code == 422 and response.json()["code"] == "upload_truncated"
    no_form = await client.post(f"{API}/listings/{listing_id}/documents", content=PDF,
                                headers=institute.headers | {"Content-Type": "application/pdf"})
    assert no_form.status_code == 422 and no_form.json()["code"] == "malformed_upload"
    twice = await institute_post(client, institute, listing_id, boundary, (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nother\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nvaluation\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"
    ).encode() + PDF + f"\r\n--{boundary}--\r\n".encode())
    assert twice.status_code == 422 and twice.json()["code"] == "malformed_upload"
    assert await document_count(client, institute, listing_id) == 0
    assert stored_files(settings.var_dir) == []


async def test_a_client_vanishing_mid_upload_leaves_nothing(actors, client, settings):
    """Over a real socket: half the declared body, then the connection closes."""
    institute = await actors.user(Role.institute)
    listing_id = await draft_listing(actors, institute)
    boundary = "cut"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
    async with LiveServer(settings) as server:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        head = (f"POST {API}/listings/{listing_id}/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: {institute.headers['Authorization']}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        writer.write(head + body[: len(body) // 2])
        await writer.drain()
        # the spool file appears once the handler has begun reading the body
        await asyncio.to_thread(wait_for, lambda: stored_files(settings.var_dir), 20, "spooling")
        writer.close()
        await writer.wait_closed()
        await asyncio.to_thread(
            wait_for, lambda: not stored_files(settings.var_dir), 20, "the spool file to go")
    assert await document_count(client, institute, listing_id) == 0


async def test_only_the_owner_and_admin_manage_documents(actors, client, settings):
    institute = await actors.user(Role.institute)
    listing_id = await approved_listing(actors, institute)
    other = await actors.user(Role.institute)
    assert (await upload(client, other, listing_id)).status_code == 403
    assert (await upload(client, await actors.user(Role.enterprise), listing_id)).status_code == 403
    assert (await upload(client, await actors.user(Role.auditor), listing_id)).status_code == 403
    assert (await upload(client, None, listing_id)).status_code == 401
    mine = await uploaded(client, institute, listing_id)
    by_admin = await uploaded(client, actors.admin, listing_id, PNG, visibility="data_room")
    refused = await client.delete(f"{API}/documents/{mine['id']}", headers=other.headers)
    assert refused.status_code == 403
    for who, doc in ((institute, by_admin), (actors.admin, mine)):
        assert (await client.delete(f"{API}/documents/{doc['id']}", headers=who.headers)).status_code == 204
    assert await document_count(client, institute, listing_id) == 0
    gone = await client.get(f"{API}/documents/{mine['id']}", headers=institute.headers)
    assert gone.status_code == 404
    kept = await uploaded(client, institute, listing_id)
    withdrawn = await client.post(f"{API}/listings/{listing_id}/withdraw", headers=institute.headers)
    assert withdrawn.status_code == 200
    closed = await upload(client, institute, listing_id)
    assert closed.status_code == 409 and closed.json()["code"] == "listing_closed"
    not_removed = await client.delete(f"{API}/documents/{kept['id']}", headers=actors.admin.headers)
    assert not_removed.status_code == 409
    assert await document_count(client, institute, listing_id) == 1


async def test_documents_of_an_unseen_listing_are_not_found(actors, client, settings):
    institute = await actors.user(Role.institute)
    listing_id = await draft_listing(actors, institute)
    doc = await uploaded(client, institute, listing_id)
    enterprise = await actors.user(Role.enterprise)
    for path in (f"{API}/documents/{doc['id']}", f"{API}/listings/{listing_id}/documents"):
        assert (await client.get(path, headers=enterprise.headers)).status_code == 404
        assert (await client.get(path)).status_code == 404


async def test_non_ascii_part_names_and_file_names(actors, client, settings):
    institute = await actors.user(Role.institute)
    listing_id = await draft_listing(actors, institute)
    body = await uploaded(client, institute, listing_id, PDF, name="技术报告 v2.pdf")
    assert body["filename"] == "技术报告 v2.pdf"
    download = await client.get(f"{API}/documents/{body['id']}", headers=institute.headers)
    assert "filename*=UTF-8''%E6%8A%80" in download.headers["content-disposition"]
    boundary = "b0undary"
    raw = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"\u00af\U0006959a\"\r\n\r\nx\r\n"
           f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"
           ).encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
    response = await institute_post(client, institute, listing_id, boundary, raw)
    # refused as an unknown field (as in every request body), not a server error
    assert response.status_code == 422 and response.json()["code"] == "invalid_document_fields"
