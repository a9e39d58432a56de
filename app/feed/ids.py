"""Redis stream entry ids as the feed compares them, and Last-Event-ID checked strictly."""

import re

from app.errors import Unprocessable

StreamId = tuple[int, int]
ZERO: StreamId = (0, 0)
UINT64_MAX = 2**64 - 1
_ID = re.compile(r"^([0-9]{1,20})-([0-9]{1,20})$")


def parse_stream_id(text: str) -> StreamId:
    """The (milliseconds, sequence) of an entry id as Redis returns it."""
    millis, _, seq = text.partition("-")
    return int(millis), int(seq or 0)


def format_stream_id(entry: StreamId) -> str:
    return f"{entry[0]}-{entry[1]}"


def parse_last_event_id(text: str | None) -> StreamId | None:
    """A Last-Event-ID as a stream id; 422 (invalid_last_event_id) unless both parts fit uint64."""
    if text is None:
        return None
    match = _ID.match(text)
    if match is None or max(int(match[1]), int(match[2])) > UINT64_MAX:
        raise Unprocessable(
            "Last-Event-ID must be an event id of this stream: <milliseconds>-<sequence>, "
            "each a 64-bit unsigned integer.", code="invalid_last_event_id")
    return int(match[1]), int(match[2])
