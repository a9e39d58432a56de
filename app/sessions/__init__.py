"""Auction sessions (the G60 format): many lots, each an auction of one listing, in one event."""
