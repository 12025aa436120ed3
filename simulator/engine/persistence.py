"""``--state FILE``: JSON snapshots written atomically (temp file + rename), so a crash
mid-write never leaves a truncated file behind."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def save_json_atomic(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_json(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    target = Path(path)
    if not target.exists() or target.stat().st_size == 0:
        return None
    with target.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return data if isinstance(data, dict) else None
