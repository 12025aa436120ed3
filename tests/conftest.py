from __future__ import annotations

import os
import shutil

import pytest

from tests.support import CHROMIUM

# Gradio must not phone home from tests (analytics, version checks).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# A client's heartbeat stream ends only at the server's next beat (15 s by default), and a test
# server's shutdown waits for it: beat every second so live servers stop at once.
os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "1")


def pytest_collection_modifyitems(config, items):
    if shutil.which("chromium") or os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason="Debian's chromium is not installed (scripts/test.sh installs it)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def gradio_temp_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
