"""The committed bundle in components/static/ is what web/ builds, and it stays within budget."""

from __future__ import annotations

import gzip
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
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_bundle_is_within_the_gzip_budget():
    data = (STATIC / "avatar-call.js").read_bytes()
    size = len(gzip.compress(data, compresslevel=9, mtime=0))
    assert size <= GZIP_BUDGET, f"avatar-call.js is {size} B gzip, budget {GZIP_BUDGET} B"


def test_committed_bundle_matches_a_clean_rebuild(tmp_path):
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        pytest.skip("npm/node not installed: cannot rebuild the bundle")
    try:
        ping = _run([npm, "ping"], WEB, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.skip("npm registry unreachable (npm ping timed out): cannot rebuild offline")
    if ping.returncode != 0:
        pytest.skip(f"npm registry unreachable (npm ping failed): {ping.stderr.strip()[-200:]}")

    work = tmp_path / "web"
    shutil.copytree(WEB, work, ignore=shutil.ignore_patterns("node_modules"))
    ci = _run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], work, timeout=300)
    assert ci.returncode == 0, ci.stderr[-2000:]
    out = tmp_path / "out"
    build = _run(["node", "build.mjs", "--outdir", str(out)], work, timeout=120)
    assert build.returncode == 0, build.stderr[-2000:]

    for name in BUILT:
        rebuilt = (out / name).read_bytes()
        committed = (STATIC / name).read_bytes()
        assert rebuilt == committed, (
            f"{name} differs from a clean `npm ci && npm run build` of web/ "
            f"({len(rebuilt)} B vs {len(committed)} B committed): rebuild and commit it"
        )
