"""Languages of the pages: the choice (?lang=, cookie, Accept-Language), gettext catalogs
compiled from app/web/locale/*.po, and money and dates formatted per locale with Babel."""


from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "zh"
# The ?lang= code -> the Babel locale and the HTML lang attribute.
LANGUAGES = {"zh": ("zh_CN", "zh-CN"), "en": ("en", "en")}
LANG_COOKIE = "ta_lang"
# Auctions run in China: times are shown in Beijing time whatever the viewer's zone.
DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")


def pick(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page language: ?lang=, then the remembered cookie, then Accept-Language."""
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    return from_accept_language(accept_language or "")


def from_accept_language(header: str) -> str:
    """The best of zh and en by the header's q-values (zh by default)."""
    best, best_q = DEFAULT, -1.0
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


@lru_cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of a language (English is the source: its catalog may be empty)."""
    mo = LOCALE_DIR / LANGUAGES[lang][0] / "LC_MESSAGES" / "messages.mo"
    if not mo.exists():
        return NullTranslations()
    with mo.open("rb") as handle:
        return GNUTranslations(handle)


class Formatter:
    """Money, numbers and times for one language (formatted once per value: a room shows the
    same prices and times to every viewer, and Babel's formatting is its dearest part)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.locale = _locale(lang)

    def money(self, amount: Decimal | str | None, currency: str = "CNY") -> str:
        if amount is None or amount == "":
            return "—"
        return _money(self.lang, Decimal(amount), currency)

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: Decimal | str) -> str:
        return format_percent(Decimal(value), "#,##0.#%", locale=self.locale)

    def datetime(self, moment: datetime | str | None) -> str:
        return _moment(self.lang, "datetime", moment)

    def time(self, moment: datetime | str | None) -> str:
        return _moment(self.lang, "time", moment)

    def date(self, day) -> str:
        return "—" if day is None else format_date(day, "long", locale=self.locale)


@lru_cache
def formatter(lang: str) -> Formatter:
    return Formatter(lang)


@lru_cache
def _locale(lang: str) -> Locale:
    return Locale.parse(LANGUAGES[lang][0])


@lru_cache(maxsize=8192)
def _money(lang: str, amount: Decimal, currency: str) -> str:
    return format_currency(amount, currency, locale=_locale(lang))


@lru_cache(maxsize=8192)
def _moment(lang: str, kind: str, moment: datetime | str | None) -> str:
    if isinstance(moment, str):
        moment = parse_iso(moment)
    if moment is None:
        return "—"
    write = format_datetime if kind == "datetime" else format_time
    return write(_aware(moment), "medium", tzinfo=DISPLAY_ZONE, locale=_locale(lang))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_iso(text: str | None) -> datetime | None:
    """An API timestamp (ISO 8601 with Z) as an aware datetime; None for none or garbage."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def iso(moment: datetime | str | None) -> str:
    """The API's form of a timestamp (milliseconds and Z), for the room's script."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        return moment
    return _aware(moment).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
