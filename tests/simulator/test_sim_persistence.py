"""--state FILE: a simulator survives a restart."""

from __future__ import annotations

import json

import pytest
import runwayml

from simulator import FakeClock, SimConfig, serve_in_thread
from tests.simulator.simtest_helpers import (
    API_KEY,
    PRESET_AVATAR,
    PRESET_VOICE,
    consume,
    data_uri,
    face_png,
)


def test_state_survives_restart(tmp_path) -> None:
    state_file = tmp_path / "sim-state.json"
    clock = FakeClock()
    config = SimConfig(state_file=str(state_file), ready_delay=1.0, avatar_delay=2.0)

    with serve_in_thread(config, clock=clock) as first:
        with runwayml.RunwayML(api_key=API_KEY, base_url=first.base_url, max_retries=0) as client:
            doc = client.documents.create(name="Doc", content="Body").id
            avatar = client.avatars.create(
                name="Ada",
                personality="p",
                reference_image=data_uri(face_png()),
                voice=PRESET_VOICE,
                document_ids=[doc],
            ).id
            session_id = client.realtime_sessions.create(
                model="gwm1_avatars", avatar=PRESET_AVATAR
            ).id
            clock.advance(1)
            key = client.realtime_sessions.retrieve(session_id).session_key
            consume(client, session_id, key)
    saved = json.loads(state_file.read_text())
    assert saved["version"] == 1 and len(saved["sessions"]) == 1
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files

    clock.advance(2)
    with serve_in_thread(config, clock=clock) as second:
        with runwayml.RunwayML(api_key=API_KEY, base_url=second.base_url, max_retries=0) as client:
            assert client.documents.retrieve(doc).used_by[0].id == avatar
            restored = client.avatars.retrieve(avatar)
            assert restored.status == "READY"
            assert restored.reference_image_uri.startswith(second.base_url)  # files came back too
            assert client.realtime_sessions.retrieve(session_id).status == "READY"
            assert client.organization.retrieve().credit_balance == 10_000 - 2
            with pytest.raises(runwayml.ConflictError):
                consume(client, session_id, key)  # still consumed after the restart
            clock.advance(30)
            assert (
                client.realtime_sessions.retrieve(session_id).failure_code
                == "TALKING_AVATAR.NO_PARTICIPANT"
            )
