"""Clips: videos of a character speaking a script or an audio file (Runway's avatar videos).

- `words`: statuses, limits and failures in plain words; `estimate`: length and cost before render;
- `forms`: every check made before anything is sent; `store`: the clips table;
- `videos`: output expiry, length and the studio's copy; `follower`: one poller for all open tasks;
- `service.ClipService`: render, compare voices, cancel, serve.
"""

from __future__ import annotations

from studio.clips.forms import AudioFile, ClipRefused, inspect_audio
from studio.clips.service import ClipService, Estimate, paragraphs
from studio.clips.store import ClipStore, ClipTotals
from studio.clips.videos import VideoCopies
from studio.clips.words import clip_status_label, explain_clip_failure, is_terminal

__all__ = [
    "AudioFile", "ClipRefused", "ClipService", "ClipStore", "ClipTotals", "Estimate", "VideoCopies",
    "clip_status_label", "explain_clip_failure", "inspect_audio", "is_terminal", "paragraphs",
]
