"""The one place for numerical tolerances.

Every tolerance in mechopt is *relative to the data's own scale*, in both
directions: a problem whose values are in units of 1e-9 is checked to 1e-15,
one in units of 1e9 to 1e3.  The scale of a problem is the largest absolute
value, designer cost or outside option (:func:`data_scale`); probabilities
(lotteries, priors) have scale 1.

A relative tolerance below what float64 can resolve is meaningless, so every
tolerance is at least ``FLOAT_FLOOR`` (a few hundred machine epsilons) times
the scale.

This module imports numpy only, so the independent verifier can use it without
touching the compiler.

Examples
--------
>>> from mechopt.numbers import tolerance, Tolerances
>>> tolerance(1e-9)
1e-15
>>> Tolerances.for_scale(1e9).feasibility
1000.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["RELATIVE", "FLOAT_FLOOR", "data_scale", "tolerance", "Tolerances"]

#: Default feasibility tolerance, relative to the data's scale.
RELATIVE = 1e-6
#: Smallest meaningful relative tolerance in float64 (about 450 machine epsilons).
FLOAT_FLOOR = float(2 ** 9 * np.finfo(float).eps)


def data_scale(env: Any) -> float:
    """The scale of an environment's numbers: ``max |V_i|, |c|, |U_i|`` (1 when all are 0).

    Parameters
    ----------
    env : Environment
        Anything with ``values`` (sequence of ``(T_i, K)`` arrays), ``cost``
        ``(K,)`` and ``outside`` (sequence of ``(T_i,)`` arrays).

    Returns
    -------
    float
        A positive finite number (``inf`` if the data hold non-finite entries).
    """
    parts = [np.abs(np.asarray(V, dtype=float)).max(initial=0.0) for V in env.values]
    parts.append(np.abs(np.asarray(env.cost, dtype=float)).max(initial=0.0))
    parts += [np.abs(np.asarray(U, dtype=float)).max(initial=0.0) for U in env.outside]
    scale = float(max(parts))
    return scale if scale > 0 else 1.0


def tolerance(scale: float, relative: float = RELATIVE) -> float:
    """Absolute tolerance for quantities of size ``scale``.

    Parameters
    ----------
    scale : float
        Size of the data (e.g. :func:`data_scale`); must be positive.
    relative : float
        Requested relative tolerance; raised to :data:`FLOAT_FLOOR` if smaller.

    Returns
    -------
    float
        ``max(relative, FLOAT_FLOOR) * scale``: ``tolerance(1e-9) == 1e-15``,
        ``tolerance(1e9) == 1e3`` (not ``1e-6 · max(1, scale)``).
    """
    scale = float(scale)
    if not scale > 0 or not np.isfinite(scale):
        raise ValueError(f"tolerance: scale must be a positive finite number, got {scale!r}")
    return max(float(relative), FLOAT_FLOOR) * scale


@dataclass(frozen=True)
class Tolerances:
    """Absolute tolerances for one problem.

    Attributes
    ----------
    scale : float
        The data's scale (see :func:`data_scale`).
    relative : float
        Relative tolerance used.
    feasibility : float
        For constraints in value units (IC, IR, budget, efficiency, objective).
    probability : float
        For constraints in probability units (lottery, determinism).
    """

    scale: float
    relative: float = RELATIVE
    feasibility: float = 0.0
    probability: float = 0.0

    @classmethod
    def for_scale(cls, scale: float, relative: float = RELATIVE) -> Tolerances:
        """Tolerances for data of size ``scale``."""
        return cls(float(scale), float(relative), tolerance(scale, relative), tolerance(1.0, relative))

    @classmethod
    def for_env(cls, env: Any, relative: float = RELATIVE) -> Tolerances:
        """Tolerances for an environment's data (see :func:`data_scale`)."""
        return cls.for_scale(data_scale(env), relative)
