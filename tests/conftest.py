from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from tests.store.cluster import Cluster
from tests.support import CHROMIUM, launch_chromium

# Gradio must not phone home from tests (analytics, version checks).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# A client's heartbeat stream ends only at the server's next beat (15 s by default), and a test
# server's shutdown waits for it: beat every second so live servers stop at once.
os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "1")
# One upload folder for the whole run: a server built for a module must accept the files its
# own upload route stored, and Gradio checks inputs against the folder the environment names.
os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="studio-tests-gradio-")


def pytest_collection_modifyitems(config, items):
    if shutil.which("chromium") or os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason="Debian's chromium is not installed (scripts/test.sh installs it)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def no_real_dns(monkeypatch):
    """Tests talk only to loopback: a name the studio would look up is "not found" unless a test
    gives its own resolver (see tests/unit/test_netguard.py)."""
    from studio import netguard

    async def not_found(host: str, port: int) -> list[str]:
        raise OSError(f"no DNS in tests ({host})")

    if netguard.lookup is netguard.system_lookup:  # a module's own table stays in place
        monkeypatch.setattr(netguard, "lookup", not_found)



@pytest.fixture(scope="session")
def pg_cluster():
    """One real PostgreSQL for the run, started on first use; without it the tests that need it
    skip, or fail when CI is set (scripts/test.sh installs Debian's postgresql)."""
    try:
        cluster = Cluster().start()
    except Exception as error:  # noqa: BLE001 - reported as the tests' outcome
        message = f"PostgreSQL could not be started: {error}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh, empty PostgreSQL database of its own for one test."""
    return pg_cluster.create_database()


@pytest.fixture(params=["sqlite", "postgres"])
def database_target(request, tmp_path) -> str:
    """What `studio.store.open_database` takes, once per back-end: a SQLite file, then a fresh
    PostgreSQL database. Stores' tests use it to run the same assertions on both."""
    if request.param == "sqlite":
        return str(tmp_path / "studio.sqlite3")
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium for a module's browser tests (Playwright's sync API runs one instance at
    a time, so each module starts its own and closes it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
