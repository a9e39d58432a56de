"""Benchmarks of techauction (not tests): `techauction bench` runs bench.run."""
