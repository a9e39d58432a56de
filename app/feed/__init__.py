"""The live feed: one Redis reader per watched stream fanned out to every local watcher.

hub.py keeps the per-process Hub (readers, history, subscriptions, caps), response.py the
Server-Sent Events response of one watcher, ids.py the stream ids (Last-Event-ID)."""

from app.feed.hub import FeedSpec, Hub, Subscription
from app.feed.ids import StreamId, parse_last_event_id
from app.feed.response import FeedResponse

__all__ = ["FeedResponse", "FeedSpec", "Hub", "StreamId", "Subscription", "parse_last_event_id"]
