"""Helpers for the avatar video (clip) tests: speech audio made here, MP4 inspection with
PyAV, and a loopback HTTPS server with a throwaway certificate."""

from __future__ import annotations

import datetime
import io
import ssl
import threading
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np

TEXT = "Hello! I am here to show you around the new kitchen, one step at a time."
CLIP = {"model": "gwm1_avatars"}
PRESET = {"type": "runway-preset", "preset_id": "cooking-teacher"}


def text_speech(text: str = TEXT, **voice: str) -> dict[str, object]:
    speech: dict[str, object] = {"type": "text", "text": text}
    if voice:
        speech["voice"] = voice
    return speech


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    """A spoken-like test signal: a 220 Hz tone switched on and off four times a second."""
    t = np.arange(int(seconds * rate)) / rate
    gate = (np.sin(2 * np.pi * 4 * t) > 0).astype(np.float64)
    samples = (np.sin(2 * np.pi * 220 * t) * gate * 12000).astype(np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


@dataclass
class Mp4:
    video_streams: int
    audio_streams: int
    video_codec: str
    audio_codec: str
    width: int
    height: int
    seconds: float  # the container's duration
    audio_seconds: float  # decoded audio samples / rate
    audio_rms: float
    frame_means: list[float]  # mean luma of each decoded video frame


def inspect_mp4(data: bytes) -> Mp4:
    with av.open(io.BytesIO(data)) as container:
        video, audio = container.streams.video, container.streams.audio
        seconds = (container.duration or 0) / 1_000_000
        means = [float(np.mean(f.to_ndarray(format="gray"))) for f in container.decode(video[0])]
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        rate = stream.codec_context.sample_rate
    pcm = np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(1)
    if chunks and chunks[0].dtype.kind == "f":  # AAC decodes to floats in -1..1
        pcm *= 32768
    return Mp4(
        video_streams=len(video),
        audio_streams=len(audio),
        video_codec=video[0].codec_context.name,
        audio_codec=audio[0].codec_context.name,
        width=video[0].codec_context.width,
        height=video[0].codec_context.height,
        seconds=seconds,
        audio_seconds=pcm.size / rate,
        audio_rms=float(np.sqrt(np.mean(pcm**2))),
        frame_means=means,
    )


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def https_file_server(folder: Path, files: dict[str, bytes]) -> Iterator[str]:
    """Serve ``files`` over HTTPS on 127.0.0.1; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *_: object) -> None:
            return

    cert, key = _self_signed(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
