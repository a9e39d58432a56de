"""Console forms: posted fields into the API's request models, and refusals per field.

A form is validated by the very models the API validates JSON with, so a page accepts and
refuses exactly what the API does. Times are typed in Beijing time (the pages' zone).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from app.listings.schemas import ListingCreate, ListingUpdate
from app.web.i18n import DISPLAY_ZONE
from app.web.messages import N_

LISTING_FIELDS = ("title", "summary", "field", "ip_type", "patent_numbers", "trl", "transfer_mode",
                  "starting_price", "reserve_price")
FIELD_SLUGS = ("new_energy", "biomedicine", "advanced_manufacturing", "information_technology",
               "new_materials")
_INTEGERS = ("trl",)

# What to tell the user about a refused field (English source; translated where shown).
FIELD_ERRORS = {
    "title": N_("Enter a title of 3 to 200 characters."),
    "summary": N_("Enter a summary (at most 20,000 characters)."),
    "field": N_("Choose the field."),
    "ip_type": N_("Choose the type of intellectual property."),
    "patent_numbers": N_("Patent numbers: letters, digits, dots, slashes, spaces and dashes; one a line."),
    "trl": N_("Choose a technology readiness level from 1 to 9."),
    "transfer_mode": N_("Choose how the outcome is transferred."),
    "starting_price": N_("Enter an amount such as 2480000.00 (at most 2 decimal places)."),
    "reserve_price": N_("The reserve, if any, is an amount not below the starting price."),
    "kind": N_("Choose the kind of round."),
    "starts_at": N_("Enter when the round opens (Beijing time)."),
    "ends_at": N_("Enter when the round closes, after it opens and in the future (Beijing time)."),
    "bid_increment": N_("Enter an amount such as 2480000.00 (at most 2 decimal places)."),
    "deposit_amount": N_("Enter an amount such as 2480000.00 (at most 2 decimal places)."),
    "window_seconds": N_("Enter whole seconds from 0 to 3600."),
    "extension_seconds": N_("Enter whole seconds from 0 to 3600."),
    "hard_close_at": N_("The hard close, if any, is not before the round closes (Beijing time)."),
    "buyer_premium_rate": N_("Enter a rate between 0 and 1 such as 0.05."),
    "seller_commission_rate": N_("Enter a rate between 0 and 1 such as 0.03."),
    "payment_days": N_("Enter days from 1 to 365."),
    "step": N_("A dutch round needs its step, interval and floor (floor not above the starting price)."),
    "interval_seconds": N_("Enter whole seconds from 1 to 86400."),
    "floor": N_("A dutch round needs its step, interval and floor (floor not above the starting price)."),
}
# A service's refusal (the API's code) pinned to the field it is about.
CODE_FIELDS = {
    "reserve_below_start": "reserve_price", "dutch_params_required": "step",
    "dutch_params_not_allowed": "kind", "floor_above_starting_price": "floor",
    "floor_below_reserve": "floor", "round_in_past": "ends_at",
}


@dataclass
class Form:
    """A posted form: its values (to show again) and what is wrong with them, by field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def refuse(self, name: str) -> None:
        self.errors[name] = FIELD_ERRORS.get(name, N_("The request could not be completed."))


def _validate(model: type[BaseModel], data: dict[str, Any], form: Form, fallback: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [part for part in error["loc"] if isinstance(part, str)]
            name = next((p for p in reversed(loc) if p in FIELD_ERRORS), None)
            if name is None:  # a model-level check: the first field its message names
                text = str(error.get("msg", ""))
                named = [(text.find(f), f) for f in FIELD_ERRORS if f != "field" and f in text]
                name = min(named)[1] if named else fallback
            form.refuse(name)
        return None


def _integers(values: dict[str, str], names, form: Form) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        raw = values.get(name, "")
        if not raw:
            continue
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            out[name] = int(raw)
        else:
            form.refuse(name)
    return out


def listing_form(posted: dict[str, str], *, update: bool = False) -> tuple[Form, Any]:
    """A listing form as ListingCreate (or ListingUpdate: every field, no reserve = none)."""
    values = {name: posted.get(name, "").strip() for name in LISTING_FIELDS}
    form = Form(values=values)
    data: dict[str, Any] = {k: v for k, v in values.items() if v and k not in _INTEGERS}
    data["patent_numbers"] = [n.strip() for n in values["patent_numbers"].replace(",", "\n").splitlines()
                              if n.strip()]
    data |= _integers(values, ("trl",), form)
    if update:
        data.setdefault("reserve_price", None)
    model = _validate(ListingUpdate if update else ListingCreate, data, form, "reserve_price")
    if update and model is not None:
        for name in set(LISTING_FIELDS) - {"reserve_price"} - model.model_fields_set:
            form.refuse(name)  # an update from the form names every field
    return form, (model if form.ok else None)


def beijing(text: str) -> str | None:
    """A datetime-local value typed in Beijing time as ISO 8601 with its offset (None if bad)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        return None
    return moment.replace(tzinfo=DISPLAY_ZONE).isoformat()


def local_input(moment: datetime) -> str:
    """A moment as a datetime-local value in Beijing time (to the second)."""
    return moment.astimezone(DISPLAY_ZONE).replace(tzinfo=None).isoformat(timespec="seconds")
