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
from .layout import Data, Layout


def _accumulate(c: np.ndarray, cols: np.ndarray, vals: np.ndarray, exact: bool) -> None:
    if exact:
        for j, v in zip(cols.tolist(), vals.tolist()):
            c[j] += v
    else:
        np.add.at(c, cols, vals)


def status_quo_value(design: Design, exact: bool):
    """``Σ_i E[U_i(θ_i)]``: the agents' expected outside options (what ``gains`` subtracts)."""
    env = design.env
    if exact:
        from fractions import Fraction

        return sum((sum((f * u for f, u in zip(a.prior_exact, U)), Fraction(0))
                    for a, U in zip(env.agents, env.outside_exact)), Fraction(0))
    return float(sum(float(np.dot(a.prior, U)) for a, U in zip(env.agents, env.outside)))


def objective_vector(design: Design, lay: Layout, data: Data):
    """Return ``(c, offset)`` in the arithmetic of ``data``.

    The allocation terms come from the layout (:meth:`Layout.expected_value_terms`,
    :meth:`Layout.expected_cost_terms`), so the same code serves ex post lotteries
    and reduced forms.
    """
    c = data.zeros(lay.n_cols)
    prof = np.arange(lay.S)
    kind = design.objective
    if kind == "gains":  # welfare net of the status quo: same vector, offset −Σ_i E[U_i]
        c, _ = objective_vector(design.replace(objective="welfare"), lay, data)
        return c, -status_quo_value(design, data.exact)
    if kind in ("revenue", "utility"):
        sign = 1 if kind == "revenue" else -1
        for i in range(lay.n):
            _accumulate(c, lay.pcol(prof, i), sign * data.joint, data.exact)
    if kind in ("revenue", "welfare"):
        for col, val in zip(*lay.expected_cost_terms(data)):
            _accumulate(c, col, -val, data.exact)
    if kind in ("welfare", "utility"):
        for col, val in zip(*lay.expected_value_terms(data)):
            _accumulate(c, col, val, data.exact)
    return c, data.zeros(1)[0]
