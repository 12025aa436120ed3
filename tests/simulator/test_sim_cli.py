"""``python -m simulator``: flags, printed base URL, tier-1 preset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from simulator.__main__ import config_from_args, parse_args
from tests.simulator.simtest_helpers import HEADERS

ROOT = Path(__file__).resolve().parents[2]


def test_flags_map_to_config(tmp_path) -> None:
    config = config_from_args(
        parse_args(
            [
                "--ready-delay",
                "0.25",
                "--concurrency",
                "2",
                "--daily-limit",
                "7",
                "--no-participant-timeout",
                "5",
                "--avatar-delay",
                "0.5",
                "--state",
                str(tmp_path / "s.json"),
            ]
        )
    )
    assert (config.ready_delay, config.concurrency, config.daily_limit) == (0.25, 2, 7)
    assert (config.no_participant_timeout, config.avatar_delay) == (5.0, 0.5)
    assert config.state_file == str(tmp_path / "s.json")
    tier1 = config_from_args(parse_args(["--tier1"]))
    assert (tier1.concurrency, tier1.daily_limit) == (1, 50)
    assert config_from_args(parse_args(["--tier1", "--concurrency", "4"])).concurrency == 4
    defaults = config_from_args(parse_args([]))
    assert defaults.ready_delay == 1.0 and defaults.concurrency == 3


def test_standalone_prints_base_url_and_serves(tmp_path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--tier1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        base_url = line.rsplit(" ", 1)[-1]
        assert base_url.startswith("http://127.0.0.1:"), line
        org = httpx.get(f"{base_url}/v1/organization", headers=HEADERS, timeout=10).json()
        assert org["tier"]["models"]["gwm1_avatars"] == {
            "maxConcurrentGenerations": 1,
            "maxDailyGenerations": 50,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)
