"""The closer: closes due rounds on the Redis clock, finalises them in SQL once, settles."""
