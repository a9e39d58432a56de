"""The admin's new-auction form: one to five rounds of any registered kind, then the terms.

Without JavaScript: "add a round" and "remove" are submit buttons that re-render the form
with one row more or less (nothing is validated then). The first round's fields keep their
plain names (kind, starts_at...), the next ones are round2_kind, round3_kind... A round's
refusal, by the model or by the service (its errors name the round), shows on its row.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from app.auctions.domain.registry import KINDS
from app.auctions.schemas import AuctionCreate
from app.errors import AppError
from app.web.messages import N_
from app.web.views.forms import CODE_FIELDS, FIELD_ERRORS, Form, beijing, local_input

MAX_ROUNDS = 5  # AuctionCreate takes 1 to 5 rounds
ROUND_KINDS = tuple(KINDS)  # in the registry's order: a new kind is offered at once
ROUND_FIELDS = ("kind", "starts_at", "ends_at", "step", "interval_seconds", "floor", "advance")
TERM_FIELDS = ("bid_increment", "deposit_amount", "window_seconds", "extension_seconds",
               "hard_close_at", "buyer_premium_rate", "seller_commission_rate", "payment_days")
_ROUND_INTEGERS = ("interval_seconds", "advance")
_TERM_INTEGERS = ("window_seconds", "extension_seconds", "payment_days")
_FORM_PARAM = {"interval_ms": "interval_seconds"}  # a kind's parameter as the form asks for it
_NAMED = re.compile(r"round([2-9])_(\w+)")

ERRORS = FIELD_ERRORS | {
    "advance": N_("Every round but the last says how many of its best bidders go on (1 to 1000); "
                  "the last round says none."),
    "round_order": N_("A round opens only after the round before it closes."),
    "kind_not_final": N_("A round of this kind can only be the last round."),
}


def round_field(name: str, index: int) -> str:
    """The form name of a round's field (index from 0)."""
    return name if index == 0 else f"round{index + 1}_{name}"


def field_base(name: str) -> str:
    """A round's field name without its round (round2_step -> step)."""
    named = _NAMED.fullmatch(name)
    return named.group(2) if named else name


def kind_params() -> dict[str, list[str]]:
    """Each parameter field of the form and the kinds that take it (advance: any non-final)."""
    found: dict[str, list[str]] = {}
    for name, kind in KINDS.items():
        for param in kind.params:
            found.setdefault(_FORM_PARAM.get(param, param), []).append(name)
    return found


@dataclass
class AuctionForm(Form):
    """The form with how many round rows it shows."""

    count: int = 1

    def refuse_round(self, name: str, index: int | None, why: str | None = None) -> None:
        """Refuse a field (of round index, when it is a round's), with its message."""
        if index is not None and name in ROUND_FIELDS:
            name = round_field(name, index)
        self.errors[name] = ERRORS.get(why or field_base(name), N_("The request could not be completed."))

    def refuse_service(self, exc: AppError) -> bool:
        """Pin a service refusal to its field (of the round it names); False if it has none."""
        base = service_field(exc.code)
        if base is None:
            return False
        errors = exc.extensions.get("errors") or [{}]
        loc = errors[0].get("loc", [])
        index = loc[2] if len(loc) > 2 and isinstance(loc[2], int) else None
        self.refuse_round(base, index, "kind_not_final" if exc.code.endswith("_not_final") else None)
        return True


def service_field(code: str) -> str | None:
    """The field a service refusal's code is about."""
    if code in CODE_FIELDS:
        return CODE_FIELDS[code]
    if code in ("advance_required", "advance_on_final_round"):
        return "advance"
    kind, _, what = code.partition("_params_")
    if what == "required" and kind in KINDS:
        params = [_FORM_PARAM.get(p, p) for p in KINDS[kind].params]
        return next((p for p in params if p in ROUND_FIELDS), "kind")
    if code.endswith(("_params_not_allowed", "_not_final")):
        return "kind"
    return None


def blank(*, now: datetime) -> AuctionForm:
    """The form as first shown: one english round opening in ten minutes for a day."""
    return AuctionForm(values={
        "kind": "english", "starts_at": local_input(now + timedelta(minutes=10)),
        "ends_at": local_input(now + timedelta(days=1, minutes=10)), "bid_increment": "10000.00",
        "deposit_amount": "100000.00", "window_seconds": "60", "extension_seconds": "60",
        "buyer_premium_rate": "0.05", "seller_commission_rate": "0.03", "payment_days": "30",
    })


def _count(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ROUNDS else 1


def _rows(posted: dict[str, str], count: int) -> list[dict[str, str]]:
    return [{n: posted.get(round_field(n, i), "").strip() for n in ROUND_FIELDS} for i in range(count)]


def _values(rows: list[dict[str, str]], posted: dict[str, str]) -> dict[str, str]:
    values = {name: posted.get(name, "").strip() for name in TERM_FIELDS}
    for i, row in enumerate(rows):
        values |= {round_field(n, i): v for n, v in row.items()}
    return values


def edit_rounds(posted: dict[str, str]) -> AuctionForm | None:
    """The form with a round row added or removed, if that is what was pressed (else None)."""
    action = posted.get("rounds_action", "")
    rows = _rows(posted, _count(posted.get("round_count", "")))
    if action == "add" and len(rows) < MAX_ROUNDS:
        opens = beijing(rows[-1]["ends_at"])  # the new round opens an hour after the last closes
        start = datetime.fromisoformat(opens) + timedelta(hours=1) if opens else None
        rows.append({n: "" for n in ROUND_FIELDS} | {"kind": "english"} | ({
            "starts_at": local_input(start), "ends_at": local_input(start + timedelta(hours=1))}
            if start else {}))
    elif action.startswith("remove-") and action[7:].isdigit() and len(rows) > 1:
        index = int(action[7:])
        rows = rows[:index] + rows[index + 1:]
    elif action != "add":
        return None
    return AuctionForm(values=_values(rows, posted), count=len(rows))


def _round(row: dict[str, str], i: int, form: AuctionForm) -> dict[str, Any]:
    """One row as a RoundIn body: times in Beijing time, the kind's own parameters, advance."""
    kind = row["kind"] or "english"
    out: dict[str, Any] = {"kind": kind}
    for name in ("starts_at", "ends_at"):
        if row[name]:
            iso = beijing(row[name])
            if iso is None:
                form.refuse_round(name, i)
            else:
                out[name] = iso
    taken = {_FORM_PARAM.get(p, p) for p in KINDS[kind].params} if kind in KINDS else set()
    for name in ("step", "floor"):
        if name in taken and row[name]:
            out[name] = row[name]
    for name in _ROUND_INTEGERS:
        if (name in taken or name == "advance") and row[name]:
            if (number := _whole(row[name])) is None:
                form.refuse_round(name, i)
            else:
                out[name] = number
    return out


def _whole(raw: str) -> int | None:
    """A count typed as digits (the model judges its range), or None."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _terms(values: dict[str, str], form: AuctionForm) -> dict[str, Any]:
    data: dict[str, Any] = {k: values[k] for k in ("bid_increment", "deposit_amount",
                                                   "buyer_premium_rate", "seller_commission_rate")
                            if values[k]}
    anti: dict[str, Any] = {}
    for name in _TERM_INTEGERS:
        if values[name] and (number := _whole(values[name])) is None:
            form.refuse_round(name, None)
        elif values[name]:
            (data if name == "payment_days" else anti)[name] = number
    if values["hard_close_at"]:
        if (iso := beijing(values["hard_close_at"])) is None:
            form.refuse_round("hard_close_at", None)
        else:
            anti["hard_close_at"] = iso
    return data | {"anti_sniping": anti}


def auction_form(posted: dict[str, str], listing_id: int) -> tuple[AuctionForm, AuctionCreate | None]:
    """The posted form as AuctionCreate (None: refused, every field judged, or rows edited)."""
    edited = edit_rounds(posted)
    if edited is not None:
        return edited, None
    rows = _rows(posted, _count(posted.get("round_count", "")))
    form = AuctionForm(values=_values(rows, posted), count=len(rows))
    data = {"listing_id": listing_id, "rounds": [_round(r, i, form) for i, r in enumerate(rows)]}
    data |= _terms(form.values, form)
    model = _check(data, form)
    return form, (model if form.ok else None)


def _check(data: dict[str, Any], form: AuctionForm) -> AuctionCreate | None:
    """AuctionCreate of the body, or its refusals on the form (a round's on its row)."""
    try:
        return AuctionCreate.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc, text = error["loc"], str(error.get("msg", ""))
            index = loc[1] if len(loc) > 1 and loc[0] == "rounds" and isinstance(loc[1], int) else None
            name = next((p for p in reversed(loc) if isinstance(p, str) and p in ERRORS), None)
            if name is None and "each round must start after" in text:
                late = next((i for i in range(1, len(data["rounds"])) if _early(data["rounds"], i)), 1)
                form.refuse_round("starts_at", late, "round_order")
                continue
            if name is None:  # a model-level check: the first field its message names
                named = [(text.find(f), f) for f in (*ROUND_FIELDS, *TERM_FIELDS) if f in text]
                name = min(named)[1] if named else "ends_at"
            form.refuse_round(name, index)
        return None


def _early(rounds: list[dict[str, Any]], i: int) -> bool:
    opens, closed = rounds[i].get("starts_at"), rounds[i - 1].get("ends_at")
    return bool(opens and closed and datetime.fromisoformat(opens) < datetime.fromisoformat(closed))
