"""The one place the record reads a bid's channel: online until Bid.channel exists."""

from enum import StrEnum
from types import SimpleNamespace

from app.paperwork.record import bid_channel


class Channel(StrEnum):
    floor = "floor"


def test_a_bid_without_a_channel_was_placed_online():
    assert bid_channel(SimpleNamespace()) == "online"
    assert bid_channel(SimpleNamespace(channel=None)) == "online"


def test_a_bid_with_a_channel_keeps_it():
    assert bid_channel(SimpleNamespace(channel="absentee")) == "absentee"
    assert bid_channel(SimpleNamespace(channel=Channel.floor)) == "floor"
