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

import math
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


def kkt_residual(lp: Any, out: SolveOutput) -> float:
    """Largest relative violation of the LP optimality conditions at a solver's answer ``out`` to ``lp``.

    Recomputed from the LP data (not from the solver's own residuals): primal
    feasibility of ``A z ≥ b`` / ``= b`` and the bounds, dual feasibility of the
    row duals λ (≥ 0 on ≥ rows) and of the reduced costs ``d = −c − Aᵀλ`` (for
    HiGHS's ``min −c·z``: d ≥ 0 only at a finite lower bound, d ≤ 0 only at a
    finite upper bound), and the duality gap between ``c·z`` and the dual
    objective ``λ·b + Σ_j d_j·bound_j``.  ``inf`` when there is no solution or
    no dual.
    """
    z, y = out.z, out.row_dual
    if z is None or y is None:
        return math.inf
    A = lp.A.tocsr()
    c, b = np.asarray(lp.c, float), np.asarray(lp.rhs, float)
    lb, ub = np.asarray(lp.lb, float), np.asarray(lp.ub, float)
    eq = np.asarray(lp.equality, bool)
    scale_p = max(1.0, float(np.abs(b).max(initial=0.0)), float(np.abs(z).max(initial=0.0)))
    scale_d = max(1.0, float(np.abs(c).max(initial=0.0)), float(np.abs(y).max(initial=0.0)))
    Az = A @ z
    primal = max(
        float(np.max(b[~eq] - Az[~eq], initial=0.0)),
        float(np.max(np.abs(Az[eq] - b[eq]), initial=0.0)),
        float(np.max(lb - z, initial=0.0)),
        float(np.max(z - ub, initial=0.0)),
    ) / scale_p
    d = -c - A.T @ y
    fin_lb, fin_ub = np.isfinite(lb), np.isfinite(ub)
    dual = max(
        float(np.max(-y[~eq], initial=0.0)),
        float(np.max(np.where(fin_lb, 0.0, np.maximum(d, 0.0)), initial=0.0)),
        float(np.max(np.where(fin_ub, 0.0, np.maximum(-d, 0.0)), initial=0.0)),
    ) / scale_d
    bound = np.where(d > 0, np.where(fin_lb, lb, 0.0), np.where(fin_ub, ub, 0.0))
    # elementwise sums, not BLAS dot products: OpenBLAS's threads cost ~10 ms per call on a busy machine
    dual_obj = float(np.sum(y * b) + np.sum(d * bound))
    gap = abs(float(-np.sum(c * z)) - dual_obj) / max(1.0, abs(dual_obj)) / max(1.0, scale_d)
    return max(primal, dual, gap)
