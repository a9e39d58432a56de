"""Session tests run the closer inside the API process, as an embedded deployment does."""

import pytest

from app.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"closer_in_api": True})
