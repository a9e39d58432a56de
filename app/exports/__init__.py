"""Streamed settlement exports with signed manifests."""
