"""Offline speech: eSpeak NG (the ``espeakng-loader`` wheel ships the library and its
data, no download at run time) through ctypes, 48 kHz mono int16. A voice preset maps to
an eSpeak variant, pitch and rate, so voices differ. If eSpeak cannot be loaded, a small
formant synthesiser says each word as a voiced syllable instead (robotic, but alive)."""

from __future__ import annotations

import ctypes
import hashlib
import logging
import threading
from dataclasses import dataclass

import numpy as np

log = logging.getLogger("simulator.room")

RATE = 48000
AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_RATE, ESPEAK_PITCH, ESPEAK_RANGE = 1, 3, 4
FEMININE = {
    "victoria", "clara", "skye", "mia", "summer", "ruby", "aurora", "nina", "emma", "maya",
    "georgia", "petra", "violet", "luna",
}  # fmt: skip
DEEP = {"marcus", "vincent", "roman", "david", "adam"}
QUICK = {"max", "skye", "zach", "felix", "ruby", "summer"}
SLOW = {"maya", "aurora", "adrian", "violet", "morgan"}


@dataclass(frozen=True)
class VoiceStyle:
    variant: str  # eSpeak voice name, e.g. "en-us+f3"
    pitch: int  # 0..100
    rate: int  # words per minute
    base_hz: float  # fallback synthesiser's fundamental


def style_for(preset: str) -> VoiceStyle:
    """A stable, distinct voice for each preset id (unknown ids hash to one)."""
    key = (preset or "").strip().lower()
    spread = int(hashlib.sha256(key.encode()).hexdigest()[:4], 16) / 0xFFFF  # 0..1
    feminine = key in FEMININE
    variant = f"en-us+{'f' if feminine else 'm'}{1 + int(spread * 4)}"
    pitch = int((55 if feminine else 38) + spread * 20 - (15 if key in DEEP else 0))
    rate = int(165 + spread * 20 + (25 if key in QUICK else 0) - (25 if key in SLOW else 0))
    base = (190.0 if feminine else 115.0) * (0.9 + spread * 0.2) * (0.8 if key in DEEP else 1)
    return VoiceStyle(variant, max(0, min(100, pitch)), rate, base)


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _ESpeak:
    """The process-wide eSpeak NG library (it keeps global state: one caller at a time)."""

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        data = espeakng_loader.get_data_path().encode()
        self.rate = self._lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.rate <= 0:
            raise OSError("espeak_Initialize failed")
        self._chunks: list[np.ndarray] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # keep a reference
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()

    def _collect(self, wav: ctypes._Pointer, count: int, _events: int) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def speak(self, text: str, style: VoiceStyle) -> np.ndarray:
        encoded = text.encode("utf-8", "replace")
        with self._lock:
            self._chunks = []
            if self._lib.espeak_SetVoiceByName(style.variant.encode()) != 0:
                self._lib.espeak_SetVoiceByName(b"en-us")
            self._lib.espeak_SetParameter(ESPEAK_RATE, style.rate, 0)
            self._lib.espeak_SetParameter(ESPEAK_PITCH, style.pitch, 0)
            self._lib.espeak_SetParameter(ESPEAK_RANGE, 60, 0)
            self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, 0, 0, 0, None, None)
            chunks, self._chunks = self._chunks, []
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        return resample(np.concatenate(chunks), self.rate)


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """Linear resampling to 48 kHz (plenty for a simulated voice)."""
    if rate == RATE or samples.size == 0:
        return samples.astype(np.int16)
    positions = np.arange(int(samples.size * RATE / rate)) * (rate / RATE)
    out = np.interp(positions, np.arange(samples.size), samples.astype(np.float32))
    return out.astype(np.int16)


def formant_speech(text: str, style: VoiceStyle) -> np.ndarray:
    """Fallback: one voiced, formant-filtered syllable per word, with pauses."""
    pieces: list[np.ndarray] = []
    seconds_per_word = 60.0 / max(80, style.rate)
    for index, word in enumerate(text.split()):
        length = int(RATE * seconds_per_word * (0.55 + 0.1 * min(len(word), 6) / 6))
        t = np.arange(length) / RATE
        pitch = style.base_hz * (1.0 + 0.08 * np.sin(2 * np.pi * 1.5 * t + index))
        phase = 2 * np.pi * np.cumsum(pitch) / RATE
        vowel = [(700, 1200), (400, 2000), (500, 900), (300, 2300)][len(word) % 4]
        wave = sum(
            np.sin(phase * k) * (np.exp(-(((k * style.base_hz) - f) ** 2) / 2e5) + 0.2 / k)
            for k in range(1, 12)
            for f in vowel
        )
        envelope = np.minimum(1.0, np.minimum(t, t[::-1]) * 40)
        pieces.append(wave * envelope)
        pieces.append(np.zeros(int(RATE * (0.25 if word.endswith((".", "!", "?")) else 0.06))))
    if not pieces:
        return np.zeros(0, dtype=np.int16)
    audio = np.concatenate(pieces)
    peak = float(np.max(np.abs(audio))) or 1.0
    return (audio / peak * 12000).astype(np.int16)


class Speaker:
    """Turns text into 48 kHz mono int16 samples with a preset's voice."""

    _engine: _ESpeak | None = None
    _engine_failed = False
    _engine_lock = threading.Lock()

    def __init__(self, preset: str) -> None:
        self.style = style_for(preset)

    @classmethod
    def engine(cls) -> _ESpeak | None:
        with cls._engine_lock:
            if cls._engine is None and not cls._engine_failed:
                try:
                    cls._engine = _ESpeak()
                except (ImportError, OSError, AttributeError) as exc:
                    log.warning("eSpeak NG unavailable (%s); using the formant fallback", exc)
                    cls._engine_failed = True
            return cls._engine

    @property
    def uses_espeak(self) -> bool:
        return self.engine() is not None

    def synthesise(self, text: str) -> np.ndarray:
        engine = self.engine()
        if engine is not None:
            samples = engine.speak(text, self.style)
            if samples.size:
                return samples
        return formant_speech(text, self.style)
