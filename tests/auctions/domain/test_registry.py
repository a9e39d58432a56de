"""The registry of round kinds: what is derived from it, and that every kind has what the
registry's "Adding a round kind" asks for (a Lua file, rows in the shared case table)."""

from __future__ import annotations

from dataclasses import replace
from typing import get_args

import pytest

from app.auctions.domain.registry import KINDS, KNOWN_KINDS, SEALED_KINDS, RoundKind, listed
from app.auctions.engine.engine import LUA_DIR

from .cases_kinds import ALL_CASES, ALL_OUTCOME_CASES


def test_the_api_enum_and_the_sets_follow_the_registry() -> None:
    assert get_args(RoundKind) == tuple(KINDS) == (
        "english", "dutch", "sealed_first_price", "sealed_second_price")
    assert KNOWN_KINDS == set(KINDS)
    assert SEALED_KINDS == {name for name, kind in KINDS.items() if kind.sealed}


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_has_its_lua_and_its_cases(name: str) -> None:
    assert KINDS[name].name == name
    lua = (LUA_DIR / "kinds" / f"{name}.lua").read_text(encoding="utf-8")
    assert f"kind('{name}'," in lua
    assert any(c.kind == name for c in ALL_CASES)
    assert any(c.kind == name for c in ALL_OUTCOME_CASES)


def test_a_kind_name_must_be_usable_in_lua_and_file_names() -> None:
    with pytest.raises(ValueError, match="name"):
        replace(KINDS["english"], name="English-2")


def test_listed() -> None:
    assert listed(["step"]) == "step"
    assert listed(["step", "interval", "floor"]) == "step, interval and floor"
