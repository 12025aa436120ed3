"""A faithful local Runway API simulator (realtime sessions, avatars, documents,
voices, uploads, conversations, organization) for the official ``runwayml`` SDK.

Point the SDK at it with ``RUNWAYML_BASE_URL`` or ``base_url=``. See docs/simulator.md.
"""

from .app import create_app
from .catalog import PRESET_AVATARS, VOICE_PRESETS
from .clock import FakeClock, SystemClock
from .config import SimConfig
from .engine import Simulator
from .server import ServerHandle, serve_in_thread

__all__ = [
    "PRESET_AVATARS",
    "VOICE_PRESETS",
    "FakeClock",
    "ServerHandle",
    "SimConfig",
    "Simulator",
    "SystemClock",
    "create_app",
    "serve_in_thread",
]
