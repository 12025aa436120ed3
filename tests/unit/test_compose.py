"""`compose.yaml` (scaling out) names only settings the studio reads, and wires two replicas to
one PostgreSQL, one simulator and a balancer that sticks a browser to one replica."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_compose_file_runs_two_replicas_on_one_database_behind_a_sticky_balancer():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "simulator", "studio-1", "studio-2", "balancer"} <= set(services)
    for name in ("studio-1", "studio-2"):
        env = services[name]["environment"]
        assert env["STUDIO_DATABASE_URL"].startswith("postgresql://studio:studio@postgres:5432/")
        assert env["RUNWAYML_BASE_URL"].endswith("simulator:8900}")
    nginx = compose["configs"]["nginx"]["content"]
    assert "ip_hash;" in nginx and "server studio-1:7860" in nginx and "server studio-2:7860" in nginx
    assert "proxy_buffering off;" in nginx  # Gradio's event stream


def test_every_setting_in_the_compose_file_is_one_the_studio_documents():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    used = set(re.findall(r"\b(STUDIO_[A-Z0-9_]+):", (ROOT / "compose.yaml").read_text()))
    assert used and used <= documented, used - documented
