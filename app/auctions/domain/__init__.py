"""Pure bidding rules: the round model and the round kinds (no I/O, no clock)."""
