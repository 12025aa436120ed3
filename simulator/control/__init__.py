"""The test control plane under /_simulator/: its routes and the injected faults."""

from .faults import Fault, FaultBook, fire
from .routes import CONTROL_PREFIX, CONTROL_ROUTES

__all__ = ["CONTROL_PREFIX", "CONTROL_ROUTES", "Fault", "FaultBook", "fire"]
