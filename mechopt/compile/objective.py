"""The objective vector (maximized): revenue, welfare, utility or feasibility.

* ``revenue``  = Σ_s π(s) (Σ_i p_i(s) − Σ_k c_k x(s, k))
* ``welfare``  = Σ_s π(s) Σ_k (Σ_i V_i[θ_i(s), k] − c_k) x(s, k)
* ``utility``  = Σ_s π(s) (Σ_k Σ_i V_i[θ_i(s), k] x(s, k) − Σ_i p_i(s))
* ``gains``    = welfare − Σ_i E[U_i(θ_i)] (welfare net of the status quo, in which every
  agent keeps its outside option; the constant goes into the offset)
* ``feasibility`` = 0
"""

from __future__ import annotations

import numpy as np

from ..design import Design
from . import border
from .layout import Data, Layout


def _accumulate(c: np.ndarray, cols: np.ndarray, vals: np.ndarray, exact: bool) -> None:
    if exact:
        for j, v in zip(cols.tolist(), vals.tolist()):
            c[j] += v
    else:
        np.add.at(c, cols, vals)


def objective_vector(design: Design, lay: Layout, data: Data):
    """Return ``(c, offset)`` in the arithmetic of ``data``."""
    c = data.zeros(lay.n_cols)
    S, K = lay.S, lay.K
    prof = np.arange(S)
    kind = design.objective
    if kind == "gains":  # welfare net of the status quo: same vector, offset −Σ_i E[U_i]
        c, _ = objective_vector(design.replace(objective="welfare"), lay, data)
        return c, -sum((m * u).sum() for m, u in zip(data.marg, data.U))
    if kind in ("revenue", "utility"):
        sign = 1 if kind == "revenue" else -1
        for i in range(lay.n):
            _accumulate(c, lay.pcol(prof, i), sign * data.joint, data.exact)
    if not lay.ex_post_x:  # Border reduction: allocation only through Q_i = X̄_i
        return _interim_objective(kind, c, lay, data)
    if kind in ("revenue", "welfare"):
        for k in range(K):
            if data.cost[k] != 0:
                _accumulate(c, lay.xcol(prof, k), -data.cost[k] * data.joint, data.exact)
    if kind in ("welfare", "utility"):
        for i in range(lay.n):
            own = lay.own_type(i)
            for k in range(K):
                _accumulate(c, lay.xcol(prof, k), data.V[i][own, k] * data.joint, data.exact)
    return c, data.zeros(1)[0]


def _interim_objective(kind: str, c: np.ndarray, lay: Layout, data: Data):
    """Welfare and cost terms on the interim win probabilities (single item, Border reduction).

    ``Σ_s π(s) x(s, i+1) = Σ_t f_i(t) Q_i(t)``, and agent i values only outcome i+1.
    """
    if kind in ("revenue", "welfare"):
        cols, vals = border.expected_cost(lay, data)
        for col, val in zip(cols, vals):
            _accumulate(c, col, -val, data.exact)
    if kind in ("welfare", "utility"):
        for i in range(lay.n):
            t = np.arange(lay.shape[i])
            _accumulate(c, lay.X0[i] + t, data.V[i][t, i + 1] * data.marg[i], data.exact)
    return c, data.zeros(1)[0]
