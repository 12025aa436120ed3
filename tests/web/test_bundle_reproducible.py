"""The committed bundle in components/static/ is what web/ builds, and it stays within budget."""

from __future__ import annotations

import gzip
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
    """CI runs with CI=true and reaches the npm registry, so there the rebuild must not skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def why_no_rebuild() -> str | None:
    """What this machine lacks to rebuild the bundle (node, npm, the npm registry), or None."""
    for tool in ("node", "npm"):
        if not shutil.which(tool):
            return f"`{tool}` is not on PATH"
    npm = shutil.which("npm")
    registry = _run([npm, "config", "get", "registry"], WEB, timeout=30).stdout.strip() or "(default)"
    try:
        ping = _run([npm, "ping", "--fetch-retries=0", "--fetch-timeout=20000"], WEB, timeout=30)
    except subprocess.TimeoutExpired:
        return f"the npm registry {registry} did not answer `npm ping` within 30 s"
    if ping.returncode != 0:
        errors = [line for line in ping.stderr.splitlines() if line.startswith("npm error")]
        said = " ".join(errors[:2]) or f"exit status {ping.returncode}"
        return f"the npm registry {registry} is unreachable (`npm ping`: {said})"
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

    work = tmp_path / "web"
    shutil.copytree(WEB, work, ignore=shutil.ignore_patterns("node_modules"))
    ci = _run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], work, timeout=300)
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
