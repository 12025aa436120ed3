"""The one exception the simulator raises for an HTTP error; http.py renders it as JSON."""

from __future__ import annotations

from typing import Any

from .catalog import DOC_URL


class ApiError(Exception):
    """An HTTP error with Runway's body shape ``{"error": str, ...}``."""

    def __init__(
        self, status: int, message: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": message, **extra}
        self.headers = headers or {}


def validation_error(where: str, issues: list[dict[str, Any]]) -> ApiError:
    """Zod-like validation failure: ``where`` is body, query or path."""
    return ApiError(400, f"Validation of {where} failed", issues=issues, docUrl=DOC_URL)


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"{kind} {ident} not found")


def conflict(message: str, status: int = 409) -> ApiError:
    return ApiError(status, message)
