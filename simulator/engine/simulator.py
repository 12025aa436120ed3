"""``Simulator``: the state of one simulated Runway organization, as the time engine
plus one mixin per resource.

* core.py     - records, the lock, lazy time-ordered transitions, billing, files, snapshots
* sessions.py - realtime sessions, consume, join/leave/fail, the rooms' RoomHooks
* rooms.py    - each session's LiveKit room: opened at consume, closed on cancel or failure
* avatars.py  - avatars, avatar usage, conversations
* library.py  - documents and voices
* account.py  - organization and uploads
* clips.py    - avatar videos: tasks, their lifecycle, their rendered MP4s
"""

from __future__ import annotations

from .account import AccountOps
from .avatars import AvatarOps
from .clips import ClipOps
from .library import LibraryOps
from .sessions import SessionOps


class Simulator(SessionOps, AvatarOps, LibraryOps, AccountOps, ClipOps):
    """Owns every record; handlers call its methods, which return wire-shaped dicts."""
