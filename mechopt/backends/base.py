"""What every backend returns: :class:`SolveOutput`, in mechopt's conventions.

Conventions (fixed here, translated in each backend file):

* the LP is ``maximize c·z`` s.t. ``A z ≥ b`` / ``A z = b``, bounds on z;
* ``row_dual[r] = λ_r = −∂(optimal value)/∂b_r``: for a ``≥`` row λ ≥ 0, and
  λ > 0 only on binding rows; the Lagrangian is ``c·z + λ·(A z − b)``, so at an
  optimum ``c + Aᵀλ = −(reduced costs)`` with reduced costs 0 on free columns;
* ``dual_ray`` (infeasible): y with ``y ≥ 0`` on ``≥`` rows such that
  ``yᵀA`` is compatible with the bounds and ``yᵀb > 0`` (a Farkas certificate,
  in floating point);
* ``primal_ray`` (unbounded): d with ``A d ≥ 0`` (``= 0`` on equality rows),
  d within the bounds' recession cone and ``c·d > 0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

STATUSES = ("optimal", "infeasible", "unbounded", "time_limit", "interrupted", "error")


@dataclass
class Basis:
    """A simplex basis as plain arrays (picklable; HiGHS's own object is not).

    ``col_status`` (N,) and ``row_status`` (m,) hold HiGHS's codes: 0 at lower
    bound, 1 basic, 2 at upper bound, 3 zero (free nonbasic), 4 nonbasic.
    """

    col_status: np.ndarray
    row_status: np.ndarray
    valid: bool = True


@dataclass
class SolveOutput:
    status: str
    z: np.ndarray | None = None
    objective: float | None = None
    row_dual: np.ndarray | None = None
    col_dual: np.ndarray | None = None
    dual_ray: np.ndarray | None = None
    primal_ray: np.ndarray | None = None
    basis: Basis | None = None
    message: str = ""
    user_duals: Any = None  # cvxpy backend: DataFrame (constraint, …, dual) of user constraints
    stats: dict[str, Any] = field(default_factory=dict)
