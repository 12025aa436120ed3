"""The simulator's state: ``Simulator`` = the time engine plus one mixin per resource.

* engine.py   - records, the lock, lazy time-ordered transitions, billing, files, snapshots
* sessions.py - realtime sessions, consume, join/leave/fail hooks
* avatars.py  - avatars, avatar usage, conversations
* library.py  - documents and voices
* account.py  - organization and uploads
"""

from __future__ import annotations

from .account import AccountOps
from .avatars import AvatarOps
from .engine import SimulatorCore, new_id, utc_day
from .library import LibraryOps
from .sessions import SessionOps


class Simulator(SessionOps, AvatarOps, LibraryOps, AccountOps):
    """Owns every record; routes call its methods, which return wire-shaped dicts."""


__all__ = ["Simulator", "SimulatorCore", "new_id", "utc_day"]
