"""The checks a clip request passes before anything is sent: scripts, audio, characters, voices."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest

from studio.clips.forms import (
    ClipRefused,
    check_character,
    check_compare_voices,
    check_script,
    inspect_audio,
    text_speech,
    voice_override,
)
from studio.clips.words import SCRIPT_MAX
from tests.characters.support import face_jpeg, wav


def refusal(fn, *args) -> ClipRefused:
    with pytest.raises(ClipRefused) as caught:
        fn(*args)
    return caught.value


def mp3(seconds: float, rate: int = 22050) -> bytes:
    """A real MP3 (a 220 Hz tone) encoded with PyAV."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def test_an_empty_or_blank_script_is_refused_in_plain_words():
    for script in (None, "", "   \n\t "):
        error = refusal(check_script, script)
        assert error.code == "clip_script_empty" and error.field == "script"
        assert "The script is empty" in error.message


def test_a_script_over_runways_limit_says_by_how_much():
    assert check_script("x" * SCRIPT_MAX) == "x" * SCRIPT_MAX
    error = refusal(check_script, "x" * (SCRIPT_MAX + 7))
    assert error.code == "clip_script_too_long"
    assert "5,007 characters" in error.message and "at most 5,000" in error.message and "by 7" in error.message


def test_the_limit_counts_like_javascript_so_emoji_count_twice():
    assert refusal(check_script, "😀" * 2501).code == "clip_script_too_long"
    assert check_script("😀" * 2500)


def test_a_script_is_trimmed():
    assert check_script("  Hello there.  \n") == "Hello there."


def test_real_audio_is_measured():
    audio = inspect_audio(wav(2.0), "hello.wav")
    assert audio.mime == "audio/wav" and audio.name == "hello.wav"
    assert audio.seconds == pytest.approx(2.0, abs=0.01)
    encoded = inspect_audio(mp3(3.0), "tone.mp3")
    assert encoded.mime == "audio/mpeg" and encoded.seconds == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize("data, name", [
    (b"this is a shopping list, not a song\n" * 50, "song.mp3"),
    (face_jpeg((400, 300)), "photo.wav"),
    (b"RIFF" + b"\x00" * 4000, "broken.wav"),
    (mp3(2.0)[:300], "cut.mp3"),
])
def test_files_that_are_not_audio_are_refused_whatever_their_name(data, name):
    error = refusal(inspect_audio, data, name)
    assert error.code in {"clip_audio_not_audio", "clip_audio_too_short"}
    assert name in error.message and error.field == "audio"


def test_missing_empty_short_and_huge_audio_each_say_why():
    assert refusal(inspect_audio, None, None).code == "clip_audio_missing"
    assert refusal(inspect_audio, b"", "a.wav").code == "clip_audio_empty"
    assert refusal(inspect_audio, wav(0.2), "blip.wav").code == "clip_audio_too_short"
    huge = refusal(inspect_audio, b"\0" * 20_000_001, "long.wav")
    assert huge.code == "clip_audio_too_large" and "20.0 MB" in huge.message


def test_a_wav_header_without_samples_is_not_audio():
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
    assert refusal(inspect_audio, out.getvalue(), "silent.wav").code == "clip_audio_not_audio"


def test_only_a_ready_character_can_be_rendered():
    check_character({"name": "Ava", "status": "READY"})
    processing = refusal(check_character, {"name": "Ava", "status": "PROCESSING"})
    assert processing.code == "clip_character_processing" and "Ava is still being processed" in processing.message
    failed = refusal(check_character, {"name": "Ava", "status": "FAILED"})
    assert failed.code == "clip_character_failed"


def test_voice_overrides_become_the_sdks_voice_object():
    assert voice_override(None) is None and voice_override("own") is None
    assert voice_override("preset:clara") == {"type": "preset", "preset_id": "clara"}
    custom = "custom:0f8e5a4c-1d2b-4c3d-8e9f-0a1b2c3d4e5f"
    assert voice_override(custom) == {"type": "custom", "id": custom.split(":")[1]}
    for bad in ("preset:nobody", "custom:not-a-uuid", "robot"):
        assert refusal(voice_override, bad).code == "clip_voice_unknown"
    assert text_speech("Hi", None) == {"type": "text", "text": "Hi"}
    assert text_speech("Hi", {"type": "preset", "preset_id": "leo"})["voice"]["preset_id"] == "leo"


def test_a_comparison_takes_two_to_four_different_voices():
    assert check_compare_voices(["preset:clara", "preset:leo"]) == ["preset:clara", "preset:leo"]
    assert check_compare_voices(["preset:clara", "preset:clara", "preset:leo"]) == ["preset:clara", "preset:leo"]
    for picked in ([], ["preset:clara"], ["preset:clara"] * 3,
                   ["preset:clara", "preset:leo", "preset:mia", "preset:max", "preset:sam"]):
        assert refusal(check_compare_voices, picked).code == "clip_compare_count"
    assert refusal(check_compare_voices, ["preset:clara", "preset:zzz"]).code == "clip_voice_unknown"
