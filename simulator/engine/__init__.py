"""The simulator's state and its operations, with no HTTP in sight: records, the time
engine, one module per resource, wire rendering, media and persistence helpers."""

from .simulator import Simulator

__all__ = ["Simulator"]
