"""The bid trail's digest as an auditor recomputes it from the API (written out, not imported)."""

import hashlib


def trail_sha256(bids: list[dict]) -> str:
    """sha256 of one line a bid, in sequence order, as app/settlements/rules.TrailDigest
    documents it: sequence|round_index|paddle|amount|placed_at and a newline."""
    lines = "".join(
        f"{b['sequence']}|{b['round_index']}|{b['paddle']}|{b['amount']}|{b['placed_at']}\n"
        for b in sorted(bids, key=lambda b: b["sequence"])
    )
    return hashlib.sha256(lines.encode()).hexdigest()
