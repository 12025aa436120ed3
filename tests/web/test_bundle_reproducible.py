"""The committed bundle in components/static/ is what web/ builds, and it stays within budget."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
STATIC = REPO / "components" / "static"
GZIP_BUDGET = 250_000  # bytes of gzip -9 for avatar-call.js: the call bundle's 250 KB budget
BUILT = ["avatar-call.js", "avatar-call.css", "THIRD_PARTY_NOTICES.txt"]


def _run(cmd: list[str], cwd: Path, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def in_ci() -> bool:
    """CI runs with CI=true, where scripts/test.sh has installed web/node_modules, so there the
    rebuild must not skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def why_no_rebuild() -> str | None:
    """What this machine lacks to rebuild the bundle offline (node, or the build tools that
    scripts/web-deps.sh installs for this package-lock.json), or None."""
    if not shutil.which("node"):
        return "`node` is not on PATH"
    stamp = WEB / "node_modules" / ".studio-lock-sha256"
    lock = hashlib.sha256((WEB / "package-lock.json").read_bytes()).hexdigest()
    if not stamp.is_file() or stamp.read_text().strip() != lock:
        return "web/node_modules is missing or older than package-lock.json (run `bash scripts/web-deps.sh`)"
    return None


def test_bundle_is_within_the_gzip_budget():
    data = (STATIC / "avatar-call.js").read_bytes()
    size = len(gzip.compress(data, compresslevel=9, mtime=0))
    assert size <= GZIP_BUDGET, f"avatar-call.js is {size} B gzip, budget {GZIP_BUDGET} B"


def test_committed_bundle_matches_a_clean_rebuild(tmp_path):
    missing = why_no_rebuild()
    if missing:
        if in_ci():
            pytest.fail(f"CI is set, so the bundle must be rebuilt here, but {missing}")
        pytest.skip(f"cannot rebuild the bundle: {missing} (with CI set this fails instead)")

    out = tmp_path / "out"  # the build reads web/ and writes only here
    build = _run(["node", "build.mjs", "--outdir", str(out)], WEB, timeout=120)
    assert build.returncode == 0, build.stderr[-2000:]

    for name in BUILT:
        rebuilt = (out / name).read_bytes()
        committed = (STATIC / name).read_bytes()
        assert rebuilt == committed, (
            f"{name} differs from a build of web/ with the locked packages "
            f"({len(rebuilt)} B vs {len(committed)} B committed): rebuild and commit it"
        )
