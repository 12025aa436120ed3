"""Shared pieces of the benchmarks: a standalone simulator process, loopback servers, percentiles.

Every benchmark talks to 127.0.0.1 only and bounds its own request count and time.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support import free_port, serve  # after the path fix above

FAKE_KEY = "key_" + "0123456789abcdef" * 8

__all__ = ["FAKE_KEY", "ROOT", "percentile", "process_server", "serve", "simulator_process",
           "upstream_requests", "verdict"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


@contextlib.contextmanager
def simulator_process(*flags: str) -> Iterator[str]:
    """`python -m simulator` on a free loopback port, in its own process; yields its base URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "simulator", "--port", str(port), *flags],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/_simulator/state", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def process_server(argv: list[str], env: dict[str, str] | None = None, health: str = "/healthz") -> Iterator[str]:
    """Run a server command in its own process on a free loopback port (`{port}` in argv)."""
    port = free_port()
    command = [sys.executable, *(a.replace("{port}", str(port)) for a in argv)]
    full_env = {**os.environ, **(env or {})}
    full_env = {k: v.replace("{port}", str(port)) for k, v in full_env.items()}
    # stderr goes to a file, not a pipe nobody reads (a full pipe would stall the server), so a
    # server that does not start can say why.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=errors)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + health, timeout=2).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        errors.seek(0)
                        tail = errors.read().decode(errors="replace").strip().splitlines()[-5:]
                        why = "\n  ".join(tail)
                        raise RuntimeError(f"{' '.join(argv)} did not start:\n  {why}") from None
                    time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=15)


def upstream_requests(base: str, key: str) -> int:
    return httpx.get(f"{base}/_simulator/state", timeout=10).json()["requests"].get(key, 0)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
