"""The operator's control of running rounds: pause, resume and withdraw, each one atomic
script on the auction's keys (lua/pause_round.lua, resume_round.lua, withdraw_round.lua).

A session pause is applied lot by lot (each lot is its own hash slot on a cluster); each
script is keyed by the pause token, so a retry or a second worker never applies it twice."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from app.redis import as_text

LUA_DIR = Path(__file__).with_name("lua")
PauseStatus = Literal["paused", "already", "closed", "no_round"]
ResumeStatus = Literal["resumed", "not_paused", "no_round"]
WithdrawStatus = Literal["withdrawn", "already_withdrawn", "closed", "no_round"]


@dataclass(frozen=True, slots=True)
class Resumed:
    """What resume_round did: the pause's length for this round and its close now."""

    status: ResumeStatus
    shift_ms: int
    ends_at_ms: int | None


def _script(name: str) -> str:
    # lib.lua: now_ms, istr and load_fields, the same helpers the bidding scripts use
    return "\n".join((LUA_DIR / n).read_text(encoding="utf-8") for n in ("lib.lua", name))


class RoundControl:
    """Pause, resume and withdraw rounds in Redis (Engine.control)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        redis = engine.redis
        self._pause = redis.register_script(_script("pause_round.lua"))
        self._resume = redis.register_script(_script("resume_round.lua"))
        self._withdraw = redis.register_script(_script("withdraw_round.lua"))

    def _keys(self, auction_id: object) -> list[str]:
        k = self._engine.keys(auction_id)
        return [k.state, k.events]

    async def pause(self, auction_id: object, token: int) -> PauseStatus:
        """Stop the round's clock under this pause token (once per token)."""
        reply = await self._pause(keys=self._keys(auction_id), args=[str(token)])
        return cast(PauseStatus, as_text(reply[0]))

    async def resume(self, auction_id: object, token: int) -> Resumed:
        """Move the round's times by the pause's length and let it run again (once)."""
        status, shift, ends = map(as_text, await self._resume(keys=self._keys(auction_id),
                                                              args=[str(token)]))
        return Resumed(cast(ResumeStatus, status), int(shift), int(ends) if ends else None)

    async def withdraw(self, auction_id: object) -> tuple[WithdrawStatus, int | None]:
        """Close the current round as withdrawn, unless it closed (or is due) already."""
        status, closed_at = map(as_text, await self._withdraw(keys=self._keys(auction_id), args=[]))
        return cast(WithdrawStatus, status), int(closed_at) if closed_at else None
