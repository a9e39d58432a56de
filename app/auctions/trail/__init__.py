"""Durable side of bidding: the journal of accepted bids and rebuilding rounds from SQL."""
