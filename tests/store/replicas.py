"""Studio replicas as real processes (`python app.py`) on one PostgreSQL and one standalone
simulator (`python -m simulator`), as a team runs them behind a load balancer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SIM_KEY = "key_" + "0" * 128


def _wait_until_up(url: str, process: subprocess.Popen, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within {timeout:g} s")


@dataclass
class Fleet:
    """One simulator and `count` studio processes; replicas[i].url is each one's base URL."""

    database_url: str
    data_dir: Path
    count: int = 3
    env: dict[str, str] = field(default_factory=dict)
    sim_args: tuple[str, ...] = ("--ready-delay", "0.3", "--concurrency", "100")
    sim: subprocess.Popen | None = None
    sim_url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def start(self) -> Fleet:
        port = free_port()
        self.sim = subprocess.Popen([sys.executable, "-m", "simulator", "--port", str(port), *self.sim_args],
                                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.sim_url = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{self.sim_url}/_simulator/state", self.sim, "the simulator")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(self.count):
            self.add_replica()
        for url, process in zip(self.urls, self.processes):
            _wait_until_up(f"{url}/api/sessions", process, f"the studio at {url}")
        return self

    def add_replica(self) -> int:
        port = free_port()
        # Each replica has a data dir of its own: what they share (the ledger, the client-id
        # salt, the upstream listings) lives in the database.
        env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "STUDIO_DATABASE_URL": self.database_url,
               "STUDIO_DATA_DIR": str(self.data_dir / f"replica-{port}"), "RUNWAYML_API_SECRET": SIM_KEY,
               "RUNWAYML_BASE_URL": self.sim_url, "STUDIO_REFRESH_INTERVAL": "1",
               "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", **self.env}
        log = open(self.data_dir / f"replica-{port}.log", "w")  # noqa: SIM115 - lives with the process
        self.processes.append(subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                                               stdout=log, stderr=subprocess.STDOUT))
        self.urls.append(f"http://127.0.0.1:{port}")
        return len(self.urls) - 1

    def sim_state(self) -> dict[str, Any]:
        return httpx.get(f"{self.sim_url}/_simulator/state", timeout=10).json()

    def sim_control(self, path: str, body: dict[str, Any] | None = None) -> None:
        httpx.post(f"{self.sim_url}/_simulator/{path}", json=body or {}, timeout=10).raise_for_status()

    def kill(self, index: int) -> None:
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait(timeout=10)

    def stop(self) -> None:
        for process in [*self.processes, self.sim]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.processes, self.sim]:
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
