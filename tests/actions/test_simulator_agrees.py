"""The definitions the studio refuses are refused by the API too (the simulator, sent directly,
answers 400 with Runway's error shape at the same field), except the few the studio refuses
although the API is not known to: those are listed, with why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from simulator import SimConfig, serve_in_thread
from tests.actions.test_tool_validation import INVALID
from tests.simulator.simtest_helpers import HEADERS


def studio_only(tools: list[Any]) -> str | None:
    """Why the studio refuses a definition the API is not known to refuse, or None."""
    tool = tools[0] if tools and isinstance(tools[0], dict) else {}
    names = [t.get("name") for t in tools if isinstance(t, dict)]
    params = [p for p in tool.get("parameters") or [] if isinstance(p, dict)]
    enum = params[0].get("enum") if params else None
    if isinstance(tool.get("description"), str) and tool["description"] and not tool["description"].strip():
        return "a description of spaces only gives the model nothing to read"
    if len(set(names)) < len(names):
        return "Runway documents tool names as unique in a session; the simulator does not check"
    if isinstance(enum, list) and len(enum) <= 20 and ("" in enum or len(set(enum)) < len(enum)):
        return "an empty or repeated allowed value is a mistake"
    if len({p.get("name") for p in params}) < len(params) <= 20:
        return "two parameters with one name cannot both be filled in"
    return None


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    handle = serve_in_thread(SimConfig(ready_delay=0.1))
    with httpx.Client(base_url=handle.base_url, headers=HEADERS, timeout=10) as client:
        yield client
    handle.stop()


def field_of(issue: dict[str, Any]) -> str:
    path = list(issue["path"]) + (issue.get("keys") or [])[:1]
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def create(api: httpx.Client, tools: list[Any]) -> httpx.Response:
    return api.post("/v1/realtime_sessions", json={
        "model": "gwm1_avatars", "avatar": {"type": "runway-preset", "presetId": "music-superstar"},
        "tools": tools})


@pytest.mark.parametrize(("tools", "field", "words"), INVALID)
def test_the_api_refuses_what_the_studio_refuses_at_the_same_field(api, tools, field, words):
    answer = create(api, tools)
    if studio_only(tools):
        assert answer.status_code == 200, answer.text  # if the API starts refusing it, drop it from the list
        return
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "Validation of body failed" and body["issues"]
    assert any(field_of(issue).startswith(field) for issue in body["issues"]), body["issues"]
