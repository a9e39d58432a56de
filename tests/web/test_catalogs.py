"""The message catalogs: compiled .mo files match their .po sources, and cover the templates."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.web.i18n import LOCALE_DIR, Formatter, from_accept_language, pick

ROOT = Path(__file__).resolve().parents[2]


def _entries(catalog) -> dict:
    def key(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_compiled_catalog_matches_its_source(locale):
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    expected = {k: v for k, v in _entries(source).items() if v and (v if isinstance(v, str) else all(v))}
    assert _entries(compiled) == expected, "messages.mo is stale: run `make messages`"


def test_every_message_in_the_code_is_translated_to_chinese():
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                                        "lstrip_blocks": "true"}}
    found = {m[2] if isinstance(m[2], str) else m[2][0]
             for m in extract_from_dir(ROOT / "app" / "web", method_map, options,
                                       keywords={"_": None, "gettext": None, "ngettext": (1, 2),
                                                 "N_": None})}
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        translated = {(m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(po)
                      if m.id and (m.string if isinstance(m.string, str) else all(m.string))}
    assert not found - translated, f"untranslated (run `make messages`): {sorted(found - translated)}"


def test_language_choice_and_locale_formats():
    assert pick("en", "zh", "zh-CN") == "en"
    assert pick(None, "en", "zh-CN") == "en"
    assert pick("fr", None, "en-US,en;q=0.8,zh;q=0.5") == "en"
    assert from_accept_language("de-DE, fr;q=0.9") == "zh"
    assert from_accept_language("en;q=0.3, zh-CN;q=0.8") == "zh"
    assert Formatter("zh").money("2480000.00") == "¥2,480,000.00"
    assert Formatter("en").money("2480000.00") == "CN¥2,480,000.00"
