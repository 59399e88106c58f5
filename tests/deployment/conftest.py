import pytest
from live_instance import live_pair


@pytest.fixture(scope="session")
def live():
    """A protocol instance in use on its own anvil (``live_instance``)."""
    pair = live_pair()
    yield pair
    pair.chain.close()
