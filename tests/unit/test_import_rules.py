"""The import rules in pyproject.toml hold, and the check fails when an import breaks one."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("studio", "server", "pages", "components", "simulator")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["lint-imports", "--no-cache"], cwd=tree, capture_output=True, text=True,
                          env={"PATH": shutil.os.environ["PATH"], "PYTHONPATH": str(tree)}, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the app's packages and their import rules."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_copy_keeps_every_rule(tree):
    answer = lint_imports(tree)
    assert answer.returncode == 0, answer.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("studio/vocabulary.py", "import gradio", "The domain core imports no web framework"),
    ("studio/clock.py", "import studio.core", "No import cycles inside studio"),
    ("pages/usage.py", "import pages.sessions", "Tabs are independent of each other"),
    ("components/snippets.py", "import pages.call", "Layers: pages and server above components"),
    ("simulator/clock.py", "import studio.vocabulary", "The simulator imports nothing of the app"),
    ("server/routes.py", "import runwayml", "Only studio.runway imports the Runway SDK"),
])
def test_an_import_that_breaks_a_rule_fails_the_check(tree, module, line, broken):
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}  # added by the test\n")
    answer = lint_imports(tree)
    assert answer.returncode != 0
    assert re.search(rf"^{re.escape(broken)}.* BROKEN\b", answer.stdout, re.MULTILINE), answer.stdout
