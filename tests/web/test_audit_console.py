"""The auditor's console: settlements filtered, an export with its manifest downloaded and
checked by upload (intact, then tampered), the ledger check; other roles are refused."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from app.security import Role
from app.web.i18n import DISPLAY_ZONE
from tests.support.auctions import qualified_bidder
from tests.support.kinds import bid, finish, kind_auction, rnd
from tests.web.pages import csrf_of, page_client, sign_in


@pytest.fixture
async def http(app):
    async with await page_client(app) as client:
        yield client


async def _sold(app, actors, client, institute) -> dict:
    auction = await kind_auction(actors, [rnd("english", -0.2, 3)], institute=institute)
    winner = await qualified_bidder(actors, auction["id"])
    assert (await bid(client, auction["id"], winner, amount="2000000.00")).status_code == 201
    return await finish(app, client, auction["id"])


async def _prepare(http, token: str, **fields) -> str:
    prepared = await http.post("/console/exports", data={"csrf_token": token, "format": "csv"} | fields)
    assert prepared.status_code == 303, prepared.text
    export_page = prepared.headers["location"]
    assert re.fullmatch(r"/console/exports/[0-9a-f]{32}", export_page), export_page
    return export_page


async def test_the_auditor_filters_exports_and_checks_the_export_by_upload(app, actors, client, http):
    first, second = await actors.user(Role.institute), await actors.user(Role.institute)
    for institute in (first, second, second):
        await _sold(app, actors, client, institute)
    auditor = await actors.user(Role.auditor)
    await sign_in(http, auditor.email)
    console = await http.get("/console?lang=en")
    assert console.text.count("/auctions/") >= 3 and 'name="from"' in console.text
    token = csrf_of(console.text)
    filtered = await http.get(f"/console?lang=en&institute={second.organization_id}&status=pending_payment")
    assert filtered.text.count('<td><a href="/auctions/') == 2
    today = datetime.now(DISPLAY_ZONE).date()
    later = await http.get(f"/console?lang=en&from={today + timedelta(days=1)}")
    assert "No settlement yet." in later.text
    backwards = await http.get(f"/console?lang=en&from={today}&to={today - timedelta(days=1)}")
    assert "The start date must not be after the end date." in backwards.text

    export_page = await _prepare(http, token, institute=str(second.organization_id), to=str(today))
    page = await http.get(export_page + "?lang=en")
    assert f"{export_page}/file" in page.text and f"{export_page}/manifest" in page.text
    early = await http.get(f"{export_page}/manifest")
    assert early.status_code == 409  # not downloaded yet
    file = await http.get(f"{export_page}/file")
    assert file.status_code == 200 and file.headers["content-type"].startswith("text/csv")
    assert "attachment" in file.headers["content-disposition"]
    assert len(file.text.strip().splitlines()) == 3  # the header and the second institute's two
    assert (await http.get(f"{export_page}/file")).status_code == 409  # once
    manifest = await http.get(f"{export_page}/manifest")
    assert manifest.status_code == 200 and "attachment" in manifest.headers["content-disposition"]
    body = manifest.json()
    assert body["row_count"] == 2 and body["filters"]["institute"] == second.organization_id
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=DISPLAY_ZONE)
    assert body["filters"]["to"] == end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    upload = {"file": ("settlements.csv", file.content, "text/csv"),
              "manifest": ("settlements.csv.manifest.json", manifest.content, "application/json")}
    missing_token = await http.post("/console/exports/verify", files=upload)
    assert missing_token.status_code == 403
    ok = await http.post("/console/exports/verify?lang=en", data={"csrf_token": token}, files=upload)
    assert ok.status_code == 200 and "OK: the export is intact." in ok.text and 'role="alert"' in ok.text
    tampered = file.content.replace(b"2000000.00", b"1000000.00", 1)
    bad = await http.post("/console/exports/verify?lang=en", data={"csrf_token": token},
                          files=upload | {"file": ("settlements.csv", tampered, "text/csv")})
    assert bad.status_code == 422 and "FAILED" in bad.text and "CONTENT: the SHA-256" in bad.text
    forged = json.dumps(body | {"row_count": 5}).encode()
    worse = await http.post("/console/exports/verify?lang=en", data={"csrf_token": token},
                            files=upload | {"manifest": ("m.json", forged, "application/json")})
    assert "SIGNATURE" in worse.text and "ROW COUNT" in worse.text
    junk = await http.post("/console/exports/verify?lang=en", data={"csrf_token": token},
                           files=upload | {"manifest": ("m.json", b"{not json", "application/json")})
    assert junk.status_code == 422 and "cannot read the manifest" in junk.text
    zh = await http.post("/console/exports/verify?lang=zh", data={"csrf_token": token}, files=upload)
    assert "导出文件完整无误" in zh.text

    ndjson_page = await _prepare(http, token, format="ndjson")
    lines = (await http.get(f"{ndjson_page}/file")).text.strip().splitlines()
    assert len(lines) == 3 and all(json.loads(line)["buyer_name"] for line in lines)


async def test_the_ledger_check_says_ok_and_only_staff_reach_the_audit_pages(app, actors, client, http):
    auditor = await actors.user(Role.auditor)
    await sign_in(http, auditor.email)
    check = await http.get("/console/ledger?lang=en")
    assert check.status_code == 200 and "OK: the ledger is intact." in check.text
    assert 'role="alert"' in check.text and "data-focus" in check.text
    for role in (Role.enterprise, Role.institute):
        who = await actors.user(role)
        async with await page_client(app) as other:
            await sign_in(other, who.email)
            token = csrf_of((await other.get("/console")).text)
            assert (await other.get("/console/ledger")).status_code == 403
            assert (await other.post("/console/exports", data={"csrf_token": token})).status_code == 403
            verify = await other.post("/console/exports/verify", data={"csrf_token": token})
            assert verify.status_code == 403
    token = csrf_of((await http.get("/console")).text)
    export_page = await _prepare(http, token)
    async with await page_client(app) as admin:  # admin may export too, but not this auditor's
        await sign_in(admin, actors.admin.email)
        assert (await admin.get(f"{export_page}/file")).status_code == 404
        assert (await admin.get("/console/ledger")).status_code == 200
    assert (await http.get("/console/exports/" + "0" * 32)).status_code == 404
    assert (await http.get("/console/exports/not-an-id")).status_code == 422
