"""Runway's v1 API: its routes, its request schemas and its request-level header checks."""

from . import clips  # noqa: F401 - registers the avatar video and task routes
from .headers import check_request
from .routes import V1_ROUTES

__all__ = ["V1_ROUTES", "check_request"]
