"""Errors as values with stable codes: what the browser, the UI and the ledger all show."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StudioError(Exception):
    """A failure a person can read (`message`), a program can match (`code`), and HTTP can carry."""

    code: str
    message: str
    status: int = 400

    def __str__(self) -> str:
        return self.message

    def as_json(self) -> dict[str, str]:
        return {"error": self.message, "code": self.code}
