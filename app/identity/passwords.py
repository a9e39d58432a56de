"""The password policy: long enough, and not guessable (zxcvbn's estimate), for every new password.

Passwords are taken exactly as sent, at creation, sign-in and change alike: never trimmed
(spaces are characters like any other, and a password that was trimmed on one path and not
on the other failed to sign in)."""

from typing import Annotated

from pydantic import StringConstraints
from starlette.concurrency import run_in_threadpool
from zxcvbn import zxcvbn

from app.errors import Unprocessable
from app.settings import Settings

MIN_LENGTH, MAX_LENGTH = 8, 128
# zxcvbn refuses longer input (its matching grows fast with length); the first 72 characters
# of a longer password are what it judges.
JUDGED_LENGTH = 72

Password = Annotated[
    str, StringConstraints(min_length=MIN_LENGTH, max_length=MAX_LENGTH, strip_whitespace=False)
]
SignInPassword = Annotated[str, StringConstraints(max_length=1024, strip_whitespace=False)]


def _weakness(password: str, user_inputs: list[str], min_score: int) -> str | None:
    result = zxcvbn(password[:JUDGED_LENGTH], user_inputs=user_inputs)
    if result["score"] >= min_score:
        return None
    feedback = result.get("feedback") or {}
    hints = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    return " ".join(h for h in hints if h) or "It is too easy to guess."


async def require_strong(password: str, *, user_inputs: list[str], settings: Settings) -> None:
    """422 weak_password unless zxcvbn rates the password at least the configured score
    (user_inputs, such as the email and organisation name, count as guessable words)."""
    inputs = [part for text in user_inputs for part in _words(text)]
    # zxcvbn takes up to ~0.1 s of CPU on long input: keep it off the event loop.
    weakness = await run_in_threadpool(_weakness, password, inputs, settings.password_min_score)
    if weakness is not None:
        raise Unprocessable(f"The password is too weak: {weakness}", code="weak_password")


def _words(text: str) -> list[str]:
    local, _, domain = text.lower().partition("@")
    return [w for w in (text.lower(), local, *domain.split(".")) if len(w) >= 3]
