import pytest

from service import create_app
from service.settings import Settings


@pytest.fixture
def make_app():
    """An app built from the default settings, with overrides a test names."""

    def make(**overrides):
        return create_app({**Settings().flask_config(), **overrides})

    return make


@pytest.fixture
def client(make_app):
    return make_app().test_client()
