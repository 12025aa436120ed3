"""Fixtures for the simulator contract tests.

One simulator (on a FakeClock) serves the whole run; every test starts from a reset
state, cleared faults and the default test config, so tests stay independent while
the server starts only once. Time never passes unless a test advances the clock.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import runwayml

from simulator import FakeClock, SimConfig, serve_in_thread
from simulator.server import ServerHandle
from tests.simulator.simtest_helpers import API_KEY, Sim

TEST_CONFIG = SimConfig(
    ready_delay=1.0,
    concurrency=3,
    daily_limit=1000,
    no_participant_timeout=20.0,
    avatar_delay=2.0,
    credit_balance=10_000,
)


@pytest.fixture(scope="session")
def sim_server() -> Iterator[ServerHandle]:
    handle = serve_in_thread(TEST_CONFIG, clock=FakeClock())
    yield handle
    handle.stop()


# Clients are session-scoped: building an httpx client loads the CA bundle, which
# costs a noticeable fraction of a second per test on a busy machine.
@pytest.fixture(scope="session")
def _control_http(sim_server: ServerHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim_server.base_url, timeout=10.0) as http:
        yield http


@pytest.fixture(scope="session")
def _sdk(sim_server: ServerHandle) -> Iterator[runwayml.RunwayML]:
    with runwayml.RunwayML(api_key=API_KEY, base_url=sim_server.base_url, max_retries=0) as c:
        yield c


@pytest.fixture(scope="session")
def _retrying_sdk(sim_server: ServerHandle) -> Iterator[runwayml.RunwayML]:
    with runwayml.RunwayML(api_key=API_KEY, base_url=sim_server.base_url, max_retries=2) as c:
        yield c


@pytest.fixture
def sim(sim_server: ServerHandle, _control_http: httpx.Client) -> Sim:
    """A fresh simulator: empty state, no faults, the default test config."""
    sim_server.app.faults.clear()
    sim_server.simulator.reset()
    sim_server.simulator.update_config(TEST_CONFIG.to_dict())
    return Sim(sim_server, _control_http)


@pytest.fixture
def client(sim: Sim, _sdk: runwayml.RunwayML) -> runwayml.RunwayML:
    """The official sync SDK pointed at the simulator, without retries (fast failures)."""
    return _sdk


@pytest.fixture
def retrying_client(sim: Sim, _retrying_sdk: runwayml.RunwayML) -> runwayml.RunwayML:
    """The SDK with its default two retries."""
    return _retrying_sdk
