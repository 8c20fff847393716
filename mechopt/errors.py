"""Exceptions raised by mechopt.

Every error a user can cause derives from :class:`MechoptError` and carries a
one-line message that names what is wrong and how to fix it.  The CLI prints
that line and exits with status 2; it never shows a traceback for them.
"""

from __future__ import annotations


class MechoptError(Exception):
    """Base class of all errors caused by the user's input."""


class SpecError(MechoptError, ValueError):
    """An agent, environment or design is malformed (shape, NaN, probabilities, names)."""


class ModelFileError(MechoptError, ValueError):
    """A model file cannot be read: missing, not TOML, unknown key, wrong type or value."""


class SolverError(MechoptError, RuntimeError):
    """A backend is missing or failed in a way that is not an answer (not infeasible/unbounded)."""


class SizeError(MechoptError, MemoryError):
    """The LP would not fit the memory limit (``max_memory``); the message says what would fit."""
