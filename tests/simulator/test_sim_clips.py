"""Avatar videos through the official sync SDK: create, every task status on the fake
clock, throttling, cancel and delete, injected failures, costs and usage, and the
rendered MP4 behind its signed, expiring output URL."""

from __future__ import annotations

import datetime
import math
from typing import Any

import httpx
import pytest
import runwayml

from simulator import FakeClock, SimConfig, serve_in_thread
from simulator.catalog import PRESET_AVATAR_VOICES
from simulator.clips_render import synthesise
from tests.simulator.clip_helpers import (
    CLIP,
    PRESET,
    TEXT,
    https_file_server,
    inspect_mp4,
    text_speech,
    wav_bytes,
)
from tests.simulator.simtest_helpers import API_KEY, PRESET_VOICE, Sim, data_uri, face_png

QUEUE, BASE, PER_SECOND = 2.0, 10.0, 2.0  # the default clip timings (SimConfig)


def speech_seconds(text: str = TEXT, voice: str = PRESET_AVATAR_VOICES["cooking-teacher"]) -> float:
    return synthesise(text, voice).seconds


def run_seconds(clip_seconds: float) -> float:
    return BASE + PER_SECOND * clip_seconds


def clip_seconds(sim: Sim, task_id: str) -> float:
    """The clip's length as the simulator measured it (eSpeak's output varies by a few
    samples from one run to the next, so the timeline follows this one)."""
    return next(t["seconds"] for t in sim.state()["tasks"] if t["id"] == task_id)


def create(client: runwayml.RunwayML, **overrides: Any) -> str:
    body = {**CLIP, "avatar": PRESET, "speech": text_speech(), **overrides}
    return client.avatar_videos.create(**body).id


def finish(sim: Sim, client: runwayml.RunwayML, task_id: str) -> Any:
    sim.advance(QUEUE + run_seconds(clip_seconds(sim, task_id)))
    done = client.tasks.retrieve(task_id)
    assert done.status == "SUCCEEDED", done
    return done


def fetch_mp4(url: str) -> bytes:
    response = httpx.get(url, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/mp4"
    return response.content


def balance(client: runwayml.RunwayML) -> int:
    return client.organization.retrieve().credit_balance


def usage_today(sim: Sim, client: runwayml.RunwayML) -> Any:
    today = datetime.datetime.fromtimestamp(sim.clock.now(), datetime.timezone.utc).date()
    return client.organization.retrieve_usage(
        start_date=today, before_date=today + datetime.timedelta(days=1)
    )


# ---------------------------------------------------------------------------- lifecycle


def test_every_status_from_pending_to_succeeded_with_costs(sim: Sim, client) -> None:
    task_id = create(client)
    seconds = clip_seconds(sim, task_id)
    assert abs(seconds - speech_seconds()) < 0.05
    credits = math.ceil(seconds * 0.5)

    pending = client.tasks.retrieve(task_id)
    assert pending.status == "PENDING" and pending.estimated_cost.credits == credits
    assert balance(client) == 10_000 - credits  # charged up front

    sim.advance(QUEUE)
    running = client.tasks.retrieve(task_id)
    assert running.status == "RUNNING" and running.progress == 0
    sim.advance(run_seconds(seconds) / 2)
    halfway = client.tasks.retrieve(task_id)
    assert halfway.status == "RUNNING" and halfway.progress == pytest.approx(0.5, abs=0.01)

    sim.advance(run_seconds(seconds) / 2)
    done = client.tasks.retrieve(task_id)
    assert done.status == "SUCCEEDED" and done.cost.credits == credits
    assert len(done.output) == 1 and "/_outputs/" in done.output[0]
    assert balance(client) == 10_000 - credits

    usage = usage_today(sim, client)
    used = [c for day in usage.results for c in day.used_credits]
    assert [(c.model, c.amount) for c in used] == [("gwm1_avatar_async_text_to_video", credits)]


def test_wire_shapes_hold_exactly_the_sdk_fields(sim: Sim, client) -> None:
    task_id = create(client)
    raw = sim.api("GET", f"/v1/tasks/{task_id}").json()
    assert set(raw) == {"id", "createdAt", "status", "estimatedCost"}
    sim.advance(QUEUE)
    assert set(sim.api("GET", f"/v1/tasks/{task_id}").json()) == {
        "id", "createdAt", "status", "estimatedCost", "progress",
    }  # fmt: skip
    sim.advance(run_seconds(clip_seconds(sim, task_id)))
    assert set(sim.api("GET", f"/v1/tasks/{task_id}").json()) == {
        "id", "createdAt", "status", "cost", "output",
    }  # fmt: skip


def test_throttled_beyond_the_tier_concurrency(sim: Sim, client) -> None:
    sim.configure(clipConcurrency=1)
    first, second = create(client), create(client)
    seconds = clip_seconds(sim, first)
    assert client.tasks.retrieve(first).status == "PENDING"
    throttled = client.tasks.retrieve(second)
    assert throttled.status == "THROTTLED" and throttled.estimated_cost.credits > 0
    sim.advance(QUEUE + run_seconds(seconds) - 0.5)
    assert client.tasks.retrieve(second).status == "THROTTLED"
    sim.advance(0.5)  # the first finishes: the second gets its slot at that moment
    assert client.tasks.retrieve(first).status == "SUCCEEDED"
    assert client.tasks.retrieve(second).status == "PENDING"
    sim.advance(QUEUE)
    assert client.tasks.retrieve(second).status == "RUNNING"


def test_raising_the_concurrency_releases_throttled_tasks(sim: Sim, client) -> None:
    sim.configure(clipConcurrency=1)
    create(client)
    second = create(client)
    assert client.tasks.retrieve(second).status == "THROTTLED"
    sim.configure(clipConcurrency=2)
    assert client.tasks.retrieve(second).status == "PENDING"


# ---------------------------------------------------------------------------- cancel, delete


def test_cancel_before_running_is_refunded(sim: Sim, client) -> None:
    sim.configure(clipConcurrency=1)
    pending, throttled = create(client), create(client)
    for task_id in (pending, throttled):
        client.tasks.delete(task_id)
        cancelled = client.tasks.retrieve(task_id)
        assert cancelled.status == "CANCELLED" and cancelled.cost.credits == 0
    assert balance(client) == 10_000
    assert usage_today(sim, client).models == []


def test_cancel_while_running_keeps_the_charge(sim: Sim, client) -> None:
    task_id = create(client)
    credits = client.tasks.retrieve(task_id).estimated_cost.credits
    sim.advance(QUEUE + 1)
    client.tasks.delete(task_id)
    cancelled = client.tasks.retrieve(task_id)
    assert cancelled.status == "CANCELLED" and cancelled.cost.credits == credits
    assert balance(client) == 10_000 - credits
    sim.advance(run_seconds(clip_seconds(sim, task_id)))
    assert client.tasks.retrieve(task_id).status == "CANCELLED"  # it never finishes


def test_deleting_a_finished_task_removes_it_and_its_output(sim: Sim, client) -> None:
    task_id = create(client)
    done = finish(sim, client, task_id)
    credits = done.cost.credits
    client.tasks.delete(task_id)
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve(task_id)
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.delete(task_id)
    assert httpx.get(done.output[0]).status_code == 404
    assert balance(client) == 10_000 - credits  # deleting a finished task refunds nothing


# ---------------------------------------------------------------------------- failures


def test_injected_failure_fails_the_next_task_and_refunds(sim: Sim, client) -> None:
    pending = sim.control(
        "task-failures", {"failureCode": "SAFETY.INPUT.TEXT", "failure": "Unsafe script."}
    )
    assert pending == {"pending": 1}
    failing, fine = create(client), create(client)
    assert sim.state()["pendingTaskFailures"] == 0
    sim.advance(QUEUE)
    assert client.tasks.retrieve(failing).status == "RUNNING"  # it fails only at the end
    # Both clips say the same words, but eSpeak's lengths differ by a millisecond or so.
    sim.advance(max(run_seconds(clip_seconds(sim, task)) for task in (failing, fine)))
    failed = client.tasks.retrieve(failing)
    assert failed.status == "FAILED" and failed.failure_code == "SAFETY.INPUT.TEXT"
    assert failed.failure == "Unsafe script." and failed.cost.credits == 0
    assert client.tasks.retrieve(fine).status == "SUCCEEDED"
    assert balance(client) == 10_000 - client.tasks.retrieve(fine).cost.credits


def test_failing_a_given_task_now(sim: Sim, client) -> None:
    task_id = create(client)
    sim.advance(QUEUE + 1)
    answer = sim.control(f"tasks/{task_id}/fail", {"failureCode": "INTERNAL"})
    assert answer["status"] == "FAILED" and answer["failureCode"] == "INTERNAL"
    failed = client.tasks.retrieve(task_id)
    assert failed.status == "FAILED" and failed.failure and failed.cost.credits == 0
    sim.control(f"tasks/{task_id}/fail", expect=409)
    assert balance(client) == 10_000


def test_state_endpoint_lists_tasks(sim: Sim, client) -> None:
    task_id = create(client)
    tasks = sim.state()["tasks"]
    assert [t["id"] for t in tasks] == [task_id]
    assert tasks[0]["status"] == "PENDING" and tasks[0]["speechType"] == "text"


def test_insufficient_credits_refused(sim: Sim, client) -> None:
    sim.configure(creditBalance=0)
    with pytest.raises(runwayml.BadRequestError) as err:
        create(client)
    assert err.value.body["error"] == "You do not have enough credits to run this task."
    assert sim.state()["tasks"] == []


# ---------------------------------------------------------------------------- the MP4


def test_output_is_a_playable_mp4_as_long_as_the_speech(sim: Sim, client) -> None:
    seconds = speech_seconds()
    done = finish(sim, client, create(client))
    mp4 = inspect_mp4(fetch_mp4(done.output[0]))
    assert (mp4.video_streams, mp4.audio_streams) == (1, 1)
    assert (mp4.video_codec, mp4.audio_codec) == ("h264", "aac")
    assert (mp4.width, mp4.height) == (544, 352)
    assert abs(mp4.seconds - seconds) < 0.5 and abs(mp4.audio_seconds - seconds) < 0.5
    assert mp4.audio_rms > 300  # the speech is heard, not silence
    assert max(mp4.frame_means) - min(mp4.frame_means) > 2  # the face moves with it


def test_voices_sound_different(sim: Sim, client) -> None:
    quick = create(client, speech=text_speech(type="preset", preset_id="zach"))
    slow = create(client, speech=text_speech(type="preset", preset_id="maya"))
    quick_s, slow_s = speech_seconds(voice="zach"), speech_seconds(voice="maya")
    assert slow_s - quick_s > 0.5
    outputs = [finish(sim, client, t).output[0] for t in (quick, slow)]
    lengths = [inspect_mp4(fetch_mp4(url)).seconds for url in outputs]
    assert abs(lengths[0] - quick_s) < 0.5 and abs(lengths[1] - slow_s) < 0.5


def test_custom_avatar_with_custom_voice(sim: Sim, client) -> None:
    avatar = client.avatars.create(
        name="Ada", personality="p", reference_image=data_uri(face_png(64)), voice=PRESET_VOICE
    ).id
    voice = client.voices.create(
        name="Mine", from_={"type": "text", "prompt": "A calm and friendly voice",
                            "model": "eleven_ttv_v3"},
    ).id  # fmt: skip
    sim.advance(2)
    task_id = create(
        client,
        avatar={"type": "custom", "avatar_id": avatar},
        speech=text_speech("Nice to meet you.", type="custom", id=voice),
    )
    seconds = speech_seconds("Nice to meet you.", voice)
    mp4 = inspect_mp4(fetch_mp4(finish(sim, client, task_id).output[0]))
    assert abs(mp4.seconds - seconds) < 0.5 and mp4.audio_streams == 1


def test_uploaded_audio_becomes_the_clip(sim: Sim, client) -> None:
    uri = client.uploads.create_ephemeral(file=("greeting.wav", wav_bytes(3.2))).uri
    task_id = create(client, speech={"type": "audio", "audio": uri})
    estimate = client.tasks.retrieve(task_id).estimated_cost.credits
    assert estimate == math.ceil(3.2 * 0.5)
    mp4 = inspect_mp4(fetch_mp4(finish(sim, client, task_id).output[0]))
    assert abs(mp4.seconds - 3.2) < 0.5 and mp4.audio_rms > 300
    usage = usage_today(sim, client)
    assert usage.models == ["gwm1_avatar_async_audio_to_video"]


def test_data_uri_audio(sim: Sim, client) -> None:
    audio = data_uri(wav_bytes(1.5), "audio/wav")
    task_id = create(client, speech={"type": "audio", "audio": audio})
    mp4 = inspect_mp4(fetch_mp4(finish(sim, client, task_id).output[0]))
    assert abs(mp4.seconds - 1.5) < 0.5


def test_loopback_https_audio_is_fetched(sim: Sim, client, tmp_path) -> None:
    with https_file_server(tmp_path, {"/speech.wav": wav_bytes(2.4)}) as base:
        task_id = create(client, speech={"type": "audio", "audio": f"{base}/speech.wav"})
        with pytest.raises(runwayml.BadRequestError) as err:
            create(client, speech={"type": "audio", "audio": f"{base}/missing.wav"})
    assert "404" in err.value.body["issues"][0]["message"]
    mp4 = inspect_mp4(fetch_mp4(finish(sim, client, task_id).output[0]))
    assert abs(mp4.seconds - 2.4) < 0.5


def test_output_url_expires_and_fresh_ones_work(sim: Sim, client) -> None:
    task_id = create(client)
    old = finish(sim, client, task_id).output[0]
    assert httpx.get(old, timeout=60).status_code == 200
    sim.advance(sim.simulator.config.clip_output_ttl)
    expired = httpx.get(old)
    assert expired.status_code == 403 and "expired" in expired.json()["error"]
    fresh = client.tasks.retrieve(task_id).output[0]
    assert fresh != old and httpx.get(fresh, timeout=60).status_code == 200
    tampered = fresh.replace("Signature=", "Signature=0")
    assert httpx.get(tampered).status_code == 403


def test_output_honours_byte_ranges(sim: Sim, client) -> None:
    url = finish(sim, client, create(client)).output[0]
    whole = fetch_mp4(url)
    part = httpx.get(url, headers={"Range": "bytes=100-199"}, timeout=60)
    assert part.status_code == 206 and part.content == whole[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    assert httpx.get(url, headers={"Range": f"bytes={len(whole)}-"}).status_code == 416


def test_outputs_survive_a_reload_from_the_state_file(tmp_path) -> None:
    """A simulator restarted from its state file renders a finished clip again on demand."""

    state = tmp_path / "state.json"
    clock = FakeClock()
    config = SimConfig(state_file=str(state))
    with serve_in_thread(config, clock=clock) as first, client_for(first.base_url) as c:
        task_id = create(c)
        clock.advance(QUEUE + run_seconds(60))
        assert c.tasks.retrieve(task_id).status == "SUCCEEDED"
    with serve_in_thread(config, clock=clock) as second, client_for(second.base_url) as c:
        done = c.tasks.retrieve(task_id)
        mp4 = inspect_mp4(fetch_mp4(done.output[0]))
    assert abs(mp4.seconds - speech_seconds()) < 0.5


def client_for(base_url: str) -> runwayml.RunwayML:
    return runwayml.RunwayML(api_key=API_KEY, base_url=base_url, max_retries=0)


def test_clip_settings_from_the_command_line_and_the_control_plane(sim: Sim) -> None:
    from simulator.__main__ import config_from_args, parse_args

    args = ["--clip-queue-delay", "0.5", "--clip-render-base", "3", "--clip-concurrency", "4"]
    config = config_from_args(parse_args([*args, "--clip-render-per-second", "0.25"]))
    assert (config.clip_queue_delay, config.clip_render_base) == (0.5, 3.0)
    assert (config.clip_concurrency, config.clip_render_per_second) == (4, 0.25)
    assert sim.configure(clipRenderBase=1.5, clipConcurrency=None)["clipRenderBase"] == 1.5
    for bad in ({"clipWidth": 0}, {"clipFps": 61}, {"clipQueueDelay": -1}, {"clipFps": True}):
        sim.control("config", bad, expect=400)
