from __future__ import annotations

import pytest

from tests.room.support import Harness


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a real call over WebRTC (seconds each)")
    config.addinivalue_line(
        "filterwarnings", "ignore:The `websockets` implementation is deprecated"
    )


@pytest.fixture(scope="session")
def harness() -> Harness:
    h = Harness()
    yield h
    h.stop()
