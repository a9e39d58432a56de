"""The bench's tests run against the bench's app (bench.app), not the product's."""

import pytest

from bench.app import create_bench_app


@pytest.fixture
def app_factory():
    return create_bench_app
