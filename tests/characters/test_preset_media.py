"""Preset voices can be heard and preset avatars show a face: the simulator serves a sample in each
live voice and a portrait of each preset (outside /v1), and the studio fetches them server-side.
Live, with no such media, the studio says so and keeps the initials."""

from __future__ import annotations

import io
import wave

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import simulator
from app import build_app
from simulator.room.voice import style_for
from studio.catalog.presets import PRESET_SAMPLE_MISSING, PresetMedia
from tests.support import studio_settings


@pytest.fixture(scope="module")
def sim():
    handle = simulator.serve_in_thread(simulator.SimConfig(ready_delay=0.1))
    with httpx.Client(base_url=handle.base_url, timeout=60) as http:
        yield http
    handle.stop()


def frames_of(data: bytes) -> tuple[tuple[int, int, int], np.ndarray]:
    """(channels, sample width, rate) and the samples of a WAV."""
    with wave.open(io.BytesIO(data)) as reader:
        shape = (reader.getnchannels(), reader.getsampwidth(), reader.getframerate())
        return shape, np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")


def test_each_voice_sample_is_a_wav_said_in_that_voice(sim):
    clara = sim.get("/_simulator/presets/voices/clara/sample.wav")
    marcus = sim.get("/_simulator/presets/voices/marcus/sample.wav")
    assert clara.status_code == marcus.status_code == 200
    assert clara.headers["content-type"] == "audio/wav"
    for answer, voice in ((clara, "clara"), (marcus, "marcus")):
        style = style_for(voice)  # the pitch and rate the voice speaks with in a call
        assert answer.headers["x-voice-variant"] == style.variant
        assert int(answer.headers["x-voice-pitch"]) == style.pitch
        assert int(answer.headers["x-voice-rate"]) == style.rate
        shape, samples = frames_of(answer.content)
        assert shape == (1, 2, 48000)
        assert 1.5 < len(samples) / 48000 < 15  # a spoken line, not silence nor a stub
        assert np.abs(samples).max() > 1000
    assert clara.content != marcus.content
    assert style_for("clara").pitch != style_for("marcus").pitch
    # Made once: the second answer is the same bytes.
    assert sim.get("/_simulator/presets/voices/clara/sample.wav").content == clara.content


def test_each_preset_has_a_portrait_png(sim):
    answer = sim.get("/_simulator/presets/avatars/cat-character/portrait.png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(answer.content)) as picture:
        assert picture.format == "PNG" and picture.size == (1088, 704)
        assert len(set(picture.convert("RGB").get_flattened_data())) > 20  # a drawn face, not a flat card
    other = sim.get("/_simulator/presets/avatars/cooking-teacher/portrait.png").content
    assert other != answer.content


def test_unknown_presets_are_not_found_and_nothing_is_under_v1(sim):
    assert sim.get("/_simulator/presets/voices/nobody/sample.wav").status_code == 404
    assert sim.get("/_simulator/presets/avatars/nobody/portrait.png").status_code == 404
    assert sim.get("/v1/presets/voices/clara/sample.wav").status_code in (401, 404)


def test_the_studio_fetches_preset_media_from_its_embedded_simulator(tmp_path):
    app = build_app(studio_settings(tmp_path / "data"))
    with TestClient(app) as client:
        studio = app.state.studio
        assert studio.upstream.preset_media and studio.upstream.preset_media.startswith("http://127.0.0.1:")
        media = PresetMedia(studio.media, studio.upstream.preset_media)
        sample = client.portal.call(media.voice_sample, "clara")
        assert sample is not None and sample[:4] == b"RIFF"
        assert client.portal.call(media.voice_sample, "../../v1/avatars") is None  # ids only
        thumb = client.portal.call(media.portrait_thumbnail, "cat-character")
        assert thumb and thumb.startswith("data:image/jpeg;base64,")
        # The call card's picture of a preset is now its portrait, served by the studio.
        picture = client.get("/api/avatars/cat-character/image")
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"


def test_live_there_is_no_preset_media_and_the_studio_says_so(sim, tmp_path):
    # Live: a key is set (here pointing at a simulator on loopback, which Runway would be).
    settings = studio_settings(tmp_path / "data", RUNWAYML_API_SECRET="key_" + "ab" * 64,
                               RUNWAYML_BASE_URL=str(sim.base_url).rstrip("/"))
    app = build_app(settings)
    with TestClient(app) as client:
        studio = app.state.studio
        assert studio.upstream.preset_media is None
        assert not PresetMedia(studio.media, studio.upstream.preset_media).available
        answer = client.get("/api/voices/clara/sample")
        assert answer.status_code == 404 and answer.json()["error"] == PRESET_SAMPLE_MISSING
        assert "no sample" in PRESET_SAMPLE_MISSING and "test call" in PRESET_SAMPLE_MISSING
        picture = client.get("/api/avatars/cat-character/image")  # initials, as the cards keep
        assert picture.headers["content-type"].startswith("image/svg+xml")


def test_the_studio_serves_voice_samples_by_voice(tmp_path):
    app = build_app(studio_settings(tmp_path / "data"))
    with TestClient(app) as client:
        sample = client.get("/api/voices/marcus/sample")
        assert sample.status_code == 200 and sample.headers["content-type"] == "audio/wav"
        assert sample.content[:4] == b"RIFF"
        assert client.get("/api/voices/nobody/sample").status_code == 404
