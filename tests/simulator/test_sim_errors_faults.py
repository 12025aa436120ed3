"""Each SDK error class, fault injection and the SDK's retries, and the control plane."""

from __future__ import annotations

import time

import pytest
import runwayml
from starlette.testclient import TestClient

from simulator import SimConfig, SystemClock, create_app
from tests.simulator.simtest_helpers import API_KEY, PRESET_AVATAR, Sim


def test_bad_request_has_zod_shape(sim: Sim, client) -> None:
    with pytest.raises(runwayml.BadRequestError) as err:
        client.realtime_sessions.create(
            model="gwm1_avatars", avatar=PRESET_AVATAR, max_duration=5, extra_body={"bogus": 1}
        )
    body = err.value.body
    assert (
        body["error"] == "Validation of body failed"
        and body["docUrl"] == "https://docs.dev.runwayml.com/api"
    )
    codes = {(i["code"], tuple(i["path"])) for i in body["issues"]}
    assert ("unrecognized_keys", ()) in codes and ("too_small", ("maxDuration",)) in codes


def test_authentication_error(sim: Sim) -> None:
    with runwayml.RunwayML(api_key="key_nothex", base_url=sim.base_url, max_retries=0) as bad:
        with pytest.raises(runwayml.AuthenticationError):
            bad.organization.retrieve()


def test_configured_api_key_is_enforced(sim: Sim, client) -> None:
    sim.configure(apiKey="key_" + "1" * 128)
    with pytest.raises(runwayml.AuthenticationError):
        client.organization.retrieve()
    with runwayml.RunwayML(
        api_key="key_" + "1" * 128, base_url=sim.base_url, max_retries=0
    ) as good:
        assert good.organization.retrieve().credit_balance == 10_000


def test_not_found_and_conflict(sim: Sim, client) -> None:
    with pytest.raises(runwayml.NotFoundError):
        client.documents.retrieve("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")
    session_id, key = sim.ready_session(client)
    client.with_options(max_retries=0).post(
        f"/v1/realtime_sessions/{session_id}/consume",
        cast_to=object,
        body={},
        options={"headers": {"Authorization": f"Bearer {key}"}},
    )
    with pytest.raises(runwayml.ConflictError):
        client.with_options(max_retries=0).post(
            f"/v1/realtime_sessions/{session_id}/consume",
            cast_to=object,
            body={},
            options={"headers": {"Authorization": f"Bearer {key}"}},
        )


def test_internal_server_error_fault_does_not_change_state(sim: Sim, client) -> None:
    before = {k: v for k, v in sim.state().items() if k != "requests"}
    sim.fault(method="POST", path="/v1/realtime_sessions", status=500)
    with pytest.raises(runwayml.InternalServerError) as err:
        client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR)
    assert "error" in err.value.body
    after = {k: v for k, v in sim.state().items() if k != "requests"}
    assert after == before
    assert client.realtime_sessions.create(
        model="gwm1_avatars", avatar=PRESET_AVATAR
    ).id  # fault used up


def test_dropped_connection_is_api_connection_error(sim: Sim, client) -> None:
    sim.fault(method="GET", path="/v1/organization", drop=True)
    with pytest.raises(runwayml.APIConnectionError):
        client.organization.retrieve()
    assert client.organization.retrieve().credit_balance == 10_000


def test_sdk_retries_503_with_retry_after(sim: Sim, retrying_client) -> None:
    fault_id = sim.fault(
        method="GET", path="/v1/organization", status=503, retryAfter=0.01, count=2
    )
    started = time.monotonic()
    assert retrying_client.organization.retrieve().credit_balance == 10_000
    assert time.monotonic() - started < 1.0
    assert sim.requests("GET /v1/organization") == 3  # two 503s, then success
    assert sim.http.get("/_simulator/faults").json()["fired"] == {fault_id: 2}


def test_sdk_retries_503_without_retry_after(sim: Sim, retrying_client) -> None:
    sim.fault(method="GET", path="/v1/realtime_sessions/*", status=503)
    session_id = retrying_client.realtime_sessions.create(
        model="gwm1_avatars", avatar=PRESET_AVATAR
    ).id
    started = time.monotonic()
    assert retrying_client.realtime_sessions.retrieve(session_id).status == "NOT_READY"
    assert time.monotonic() - started < 1.5  # one exponential back-off step (~0.5 s)
    assert sim.requests("GET /v1/realtime_sessions/{id}") == 2


def test_sdk_retries_429_with_retry_after_then_rate_limit_error(sim: Sim, retrying_client) -> None:
    fault_id = sim.fault(
        method="POST", path="/v1/realtime_sessions", status=429, retryAfter=0.05, count=1
    )
    session_id = retrying_client.realtime_sessions.create(
        model="gwm1_avatars", avatar=PRESET_AVATAR
    ).id
    assert session_id and sim.requests("POST /v1/realtime_sessions") == 2
    assert sim.http.get("/_simulator/faults").json()["fired"][fault_id] == 1
    assert len(sim.state()["sessions"]) == 1  # the faulted attempt created nothing

    sim.fault(
        method="GET",
        path="/v1/organization",
        status=429,
        retryAfter=0.01,
        count=3,
        body={"error": "Slow down"},
    )
    with pytest.raises(runwayml.RateLimitError) as err:
        retrying_client.organization.retrieve()
    assert err.value.body == {"error": "Slow down"}
    assert err.value.response.headers["retry-after"] == "0.01"


def test_latency_fault(sim: Sim, client) -> None:
    sim.fault(method="*", path="/v1/organization", latency=0.2)
    started = time.monotonic()
    client.organization.retrieve()
    assert 0.2 <= time.monotonic() - started < 1.5


def test_fault_list_and_clear(sim: Sim) -> None:
    sim.fault(path="/v1/*", status=503, count=5)
    assert len(sim.http.get("/_simulator/faults").json()["faults"]) == 1
    assert sim.http.delete("/_simulator/faults").status_code == 200
    assert sim.http.get("/_simulator/faults").json()["faults"] == []
    assert sim.http.post("/_simulator/faults", json={"path": "/v1/x"}).status_code == 400


def test_unknown_path_and_method(sim: Sim) -> None:
    missing = sim.api("GET", "/v1/nothing-here")
    assert missing.status_code == 404 and isinstance(missing.json()["error"], str)
    wrong = sim.api("PUT", "/v1/avatars")
    assert wrong.status_code == 405 and isinstance(wrong.json()["error"], str)
    assert sim.api("DELETE", "/v1/organization").status_code == 405


def test_reset_and_state(sim: Sim, client) -> None:
    client.documents.create(name="x", content="y")
    state = sim.state()
    assert len(state["documents"]) == 1 and state["requests"]["POST /v1/documents"] == 1
    assert {"sessions", "avatars", "voices", "uploads", "creditBalance", "dailyCreates"} <= set(
        state
    )
    sim.control("reset")
    assert sim.state()["documents"] == [] and sim.state()["requests"] == {}


def test_runtime_config_changes(sim: Sim, client) -> None:
    sim.configure(readyDelay=0.5, concurrency=1)
    session_id = client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR).id
    sim.advance(0.5)
    assert client.realtime_sessions.retrieve(session_id).status == "READY"
    assert sim.http.post("/_simulator/config", json={"nope": 1}).status_code == 400
    assert sim.http.post("/_simulator/config", json={"concurrency": "x"}).status_code == 400


def test_clock_advance_refused_on_system_clock() -> None:
    with TestClient(create_app(SimConfig(), SystemClock())) as tc:
        assert tc.post("/_simulator/clock/advance", json={"seconds": 1}).status_code == 409
        response = tc.get(
            "/v1/organization",
            headers={"Authorization": f"Bearer {API_KEY}", "X-Runway-Version": "2024-11-06"},
        )
        assert response.status_code == 200


def test_in_process_app_has_simulator_state() -> None:
    app = create_app(SimConfig(concurrency=2))
    assert app.state.simulator.config.concurrency == 2
    with TestClient(app) as tc:
        assert tc.get("/_simulator/state").json()["config"]["concurrency"] == 2
