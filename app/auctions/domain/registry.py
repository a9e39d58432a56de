"""The registry of round kinds: KINDS, and everything else derived from it.

Adding a round kind:

1. ``app/auctions/domain/kinds/<name>.py`` defining ``KIND = Kind(...)`` (kinds/base.py says
   what each field means), listed in ``_MODULES`` below: its place there is its place in the
   API's enum of kinds (openapi.yaml).
2. ``app/auctions/engine/lua/kinds/<name>.lua``: its decider and outcome, ending with
   ``kind('<name>', decide, outcome)`` (lua/kinds.lua describes both; the engine loads the
   file of every registered kind).
3. Rows for it in the shared case table, ``tests/auctions/domain/cases_kinds.py``, which runs them
   through the Python rules and through the Lua.

Nothing else names a kind: the API's enum, validation, rebuilding, the closer and the Lua
dispatch all read the Kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, Literal

from app.auctions.domain.kinds import dutch, english, sealed_first_price, sealed_second_price
from app.auctions.domain.kinds.base import Kind
from app.auctions.domain.model import RoundSpec, require_int

_MODULES = (english, dutch, sealed_first_price, sealed_second_price)

KINDS: Final[dict[str, Kind]] = {module.KIND.name: module.KIND for module in _MODULES}
KNOWN_KINDS: Final = frozenset(KINDS)
SEALED_KINDS: Final = frozenset(name for name, kind in KINDS.items() if kind.sealed)
# Built from the registry (in its order), so the API's enum follows it; pydantic reads it.
RoundKind = Literal[tuple(KINDS)]  # type: ignore[valid-type]
# Every kind's parameters: RoundSpec fields none but their kind may set.
_PARAMS: Final = tuple(dict.fromkeys(p for kind in KINDS.values() for p in kind.params))


class UnsupportedRoundKind(ValueError):
    """A round kind the registry does not hold."""

    def __init__(self, kind: str) -> None:
        implemented = ", ".join(sorted(KNOWN_KINDS))
        super().__init__(f"round kind {kind!r} is unknown; implemented: {implemented}")
        self.kind = kind


def kind_of(name: str) -> Kind:
    """The registered kind called name, or UnsupportedRoundKind."""
    kind = KINDS.get(name)
    if kind is None:
        raise UnsupportedRoundKind(name)
    return kind


def is_sealed_kind(name: str) -> bool:
    """True for the kinds whose bids stay hidden until the round closes."""
    return name in SEALED_KINDS


def listed(names: Iterable[str]) -> str:
    """Names as a sentence lists them: 'a, b and c'."""
    *rest, last = names
    return f"{', '.join(rest)} and {last}" if rest else last


def foreign_params(kind: Kind, given: Mapping[str, object]) -> Kind | None:
    """The kind owning a parameter that is given (not None) but that kind does not take."""
    for other in KINDS.values():
        if other is not kind and any(
            given.get(p) is not None for p in other.params if p not in kind.params
        ):
            return other
    return None


def check_spec(spec: RoundSpec, kind: Kind) -> None:
    """The kind's rules on a spec: who may advance, whose parameters it has, their values."""
    if spec.advance is not None:
        require_int("advance", spec.advance, minimum=1)
        if kind.must_be_final:
            raise ValueError(f"a {kind.name} round {kind.must_be_final}: nobody advances")
    owner = foreign_params(kind, {p: getattr(spec, p) for p in _PARAMS})
    if owner is not None:
        raise ValueError(f"{listed(owner.params)} are for {owner.name} rounds only")
    kind.check_spec(spec)
