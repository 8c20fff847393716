"""Solver backends. Each file owns its solver's statuses and dual signs (see :mod:`.base`)."""
