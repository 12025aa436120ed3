"""`studio/actions/rpc_backend.py` is reusable on its own: copied alone into another app it
imports (only LiveKit's SDK, httpx and the standard library), and the import rules fail the
check when it reaches for anything else."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.unit.test_import_rules import PACKAGES, ROOT, lint_imports

CONTRACT = "The tool backend stands alone"


@pytest.fixture
def tree(tmp_path):
    """A copy of the app's packages and their import rules (as tests/unit/test_import_rules.py)."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_file_copied_alone_imports_and_pulls_in_nothing_of_the_studio(tmp_path):
    shutil.copy(ROOT / "studio" / "actions" / "rpc_backend.py", tmp_path / "rpc_backend.py")
    probe = ("import sys, rpc_backend; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'studio', 'gradio', 'runwayml', 'fastapi', 'pandas', 'simulator'}))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=False, env={"PATH": shutil.os.environ["PATH"], "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("line", ["import studio.errors", "from studio.actions import tools",
                                  "import gradio", "import runwayml"])
def test_an_import_of_the_app_or_a_framework_breaks_the_rule(tree, line):
    path = tree / "studio" / "actions" / "rpc_backend.py"
    path.write_text(path.read_text() + f"\n{line}  # added by the test\n")
    answer = lint_imports(tree)
    assert answer.returncode != 0
    assert re.search(rf"^{re.escape(CONTRACT)}.* BROKEN\b", answer.stdout, re.MULTILINE), answer.stdout
