import pytest


@pytest.fixture
def settings(settings, request):
    """A small document cap (an oversize upload is cheap to send), files unless parametrized."""
    store = getattr(request, "param", "files")
    return settings.model_copy(update={"document_max_bytes": 64 * 1024, "document_store": store})
