"""schemathesis hooks for tests/core/test_schemathesis.py (loaded via SCHEMATHESIS_HOOKS).

JSON Schema cannot compare two fields, so the order rules of an auction's schedule (each
round ends after it starts and starts after the one before ends; hard_close_at is not before
the last end; interval_seconds or interval_ms, not both) are in the API document as words.
Before a call, a generated schedule is made to follow them; everything else of the body stays
as generated, and schemathesis judges the case (positive or negative) on what is sent."""

import json
from datetime import UTC, datetime, timedelta

import schemathesis
from stdnum.cn import uscc

from app.schemas import _TIMESTAMP_RE


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or not _TIMESTAMP_RE.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    if case.method.upper() != "POST" or not case.path.endswith("/auctions"):
        return
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("rounds"), list):
        return
    rounds = [r for r in body["rounds"] if isinstance(r, dict)]
    instants = [_instant(r.get(k)) for r in rounds for k in ("starts_at", "ends_at")]
    if not rounds or None in instants:
        return
    start = min(instants)
    if start.year > 9990:
        return
    for i, round_ in enumerate(rounds):
        round_["starts_at"] = _iso(start + timedelta(hours=2 * i))
        round_["ends_at"] = _iso(start + timedelta(hours=2 * i + 1))
        if round_.get("interval_seconds") is not None and round_.get("interval_ms") is not None:
            round_["interval_ms"] = None
    anti = body.get("anti_sniping")
    if isinstance(anti, dict) and _instant(anti.get("hard_close_at")) is not None:
        anti["hard_close_at"] = _iso(start + timedelta(hours=2 * len(rounds)))


@schemathesis.hook("before_call")
def session_schedules_in_the_future(context, case, kwargs) -> None:
    """A session must start in the future, and a lot's rounds last duration_seconds but for
    the last, which runs until the lot closes: neither can a JSON Schema say."""
    if case.method.upper() != "POST" or not isinstance(case.body, dict):
        return
    body = case.body
    if case.path.endswith("/sessions") and _instant(body.get("starts_at")) is not None:
        soon = datetime.now(UTC) + timedelta(days=1)
        body["starts_at"] = _iso(max(_instant(body["starts_at"]), soon))
        if _instant(body.get("registration_closes_at")) is not None:
            body["registration_closes_at"] = body["starts_at"]
    if case.path.endswith("/lots") and isinstance(body.get("rounds"), list):
        rounds = [r for r in body["rounds"] if isinstance(r, dict)]
        for i, round_ in enumerate(rounds):
            if i == len(rounds) - 1:
                round_["duration_seconds"] = None
            elif round_.get("duration_seconds") is None:
                round_["duration_seconds"] = 60


# A password the policy takes (zxcvbn scores it 4) and a code whose check character is right.
STRONG_PASSWORD = "correct horse battery staple 1907"
_CODE_BODY = "91310000775785552"


@schemathesis.hook("before_call")
def checksums_and_strength(context, case, kwargs) -> None:
    """A registration code's check character and a password's strength (zxcvbn): neither can a
    JSON Schema state, so a generated code gets a valid check character and a generated
    password a strong value; the rest of the body stays as generated."""
    if case.method.upper() not in ("POST", "PATCH") or not isinstance(case.body, dict):
        return
    body = case.body
    if isinstance(body.get("registration_code"), str):
        body["registration_code"] = _CODE_BODY + uscc.calc_check_digit(_CODE_BODY)
    for name in ("password", "new_password"):
        if isinstance(body.get(name), str):
            body[name] = STRONG_PASSWORD


# The least PDF: what a document upload's file must be is judged by its content (magic bytes).
# Text, not bytes: schemathesis checks the body it sends against the schema (a string).
MINIMAL_PDF = "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@schemathesis.hook("before_call")
def documents_are_pdf(context, case, kwargs) -> None:
    """A document's type is judged by its bytes, which no JSON Schema can state: a generated
    file (text or bytes) becomes a small PDF. A form field is text: a generated value of
    another type (a negative case) goes as its JSON text, as a form would carry it, instead of
    being flattened into a valid value (a list ["public"] into "public")."""
    if case.method.upper() != "POST" or not case.path.endswith("/documents"):
        return
    if not isinstance(case.body, dict):
        return
    for name, value in case.body.items():
        if name == "file" and isinstance(value, str | bytes):
            case.body[name] = MINIMAL_PDF
        elif not isinstance(value, str | bytes):
            case.body[name] = json.dumps(value, default=str)
