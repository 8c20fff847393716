"""The same LP as cvxpy variables, solved with HiGHS through cvxpy.

Besides cross-checking the direct backend, this is where users add their own
linear constraints and objectives::

    r = design.solve(
        backend="cvxpy",
        constraints=lambda m: [m.x[:, 1] <= 0.9],          # never trade for sure
        objective=lambda m: m.expected(m.p.sum(axis=1)) + 0.5 * m.welfare,
    )

``m`` is a :class:`CvxpyModel`: ``m.x`` (S, K) allocation and ``m.p`` (S, n) ex
post payments as cvxpy expressions (profiles in C order, see ``m.profiles``),
``m.prior`` (S,), and the ready-made expressions ``m.revenue``, ``m.welfare``,
``m.utility``.  With user constraints or objectives the compiler keeps ex post
payment variables (no interim-payment reduction), so ``m.p`` is unrestricted.

Duals: one cvxpy constraint per (family, sense); cvxpy's inequality duals for
``A z ≥ b`` under ``Maximize`` are already mechopt's λ ≥ 0; equality duals are
negated here so that λ = −∂value/∂b for every row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SolverError
from .base import SolveOutput

if TYPE_CHECKING:  # pragma: no cover
    from ..compile import LinearProgram

_STATUS = {
    "optimal": "optimal",
    "infeasible": "infeasible",
    "unbounded": "unbounded",
    "optimal_inaccurate": "optimal",
    "infeasible_inaccurate": "infeasible",
    "unbounded_inaccurate": "unbounded",
    "user_limit": "time_limit",
}


class CvxpyModel:
    """The LP as cvxpy objects, for user constraints and objectives."""

    def __init__(self, lp: LinearProgram) -> None:
        import cvxpy as cp

        self.lp = lp
        self.env = lp.design.env
        lay = lp.layout
        self.z = cp.Variable(lp.A.shape[1], name="z")
        S, K, n = lay.S, lay.K, lay.n
        self.x = cp.reshape(self.z[lay.x0: lay.x0 + S * K], (S, K), order="C")
        cols = np.stack([lay.pcol(np.arange(S), i) for i in range(n)], axis=1)
        self.p = cp.reshape(self.z[cols.ravel()], (S, n), order="C")
        self.prior = self.env.joint_prior.reshape(-1)
        self.profiles = self.env.profile_index

    def expected(self, expr):
        """Expectation under the prior of an expression with one entry per profile."""
        return self.prior @ expr

    @property
    def revenue(self):
        return self.expected(self.p.sum(axis=1) - self.x @ self.env.cost)

    @property
    def welfare(self):
        import cvxpy as cp

        return self.expected(cp.multiply(self.x, self.env.welfare_table).sum(axis=1))

    @property
    def utility(self):
        import cvxpy as cp

        vals = self.env.welfare_table + self.env.cost[None, :]
        return self.expected(cp.multiply(self.x, vals).sum(axis=1) - self.p.sum(axis=1))


def solve(lp: LinearProgram, constraints: Callable | None = None, objective: Callable | None = None,
          time_limit: float | None = None, verbose: bool = False, **options: Any) -> SolveOutput:
    """Solve ``lp`` through cvxpy (HiGHS), optionally with user constraints/objective."""
    try:
        import cvxpy as cp
    except ImportError as exc:  # pragma: no cover
        raise SolverError("the cvxpy backend needs cvxpy; pip install cvxpy") from exc
    model = CvxpyModel(lp)
    z = model.z
    cons, index = [], []
    for f in lp.families:
        A = lp.A[f.start: f.stop]
        eq = lp.equality[f.start: f.stop]
        b = lp.rhs[f.start: f.stop]
        for flag in (True, False):
            rows = np.flatnonzero(eq == flag)
            if rows.size == 0:
                continue
            expr = A[rows] @ z
            cons.append(expr == b[rows] if flag else expr >= b[rows])
            index.append((f.start + rows, flag))
    finite_lb = np.isfinite(lp.lb)
    if finite_lb.any():
        cons.append(z[np.flatnonzero(finite_lb)] >= lp.lb[finite_lb])
    finite_ub = np.isfinite(lp.ub)
    if finite_ub.any():
        cons.append(z[np.flatnonzero(finite_ub)] <= lp.ub[finite_ub])
    n_model = len(index)
    if constraints is not None:
        extra = constraints(model)
        cons.extend(extra if isinstance(extra, (list, tuple)) else [extra])
    goal = objective(model) if objective is not None else lp.c @ z + float(lp.offset)
    if lp.integer.any():
        zi = cp.Variable(lp.A.shape[1], integer=True)
        cons.append(z[lp.integer] == zi[lp.integer])
    problem = cp.Problem(cp.Maximize(goal), cons)
    opts = dict(options)
    if time_limit is not None:
        opts["time_limit"] = float(time_limit)
    start = time.perf_counter()
    try:
        problem.solve(solver="HIGHS", verbose=verbose, **opts)
    except cp.error.SolverError as exc:
        return SolveOutput("error", stats={"name": "cvxpy", "seconds": time.perf_counter() - start,
                                           "raw_status": str(exc)})
    seconds = time.perf_counter() - start
    status = _STATUS.get(problem.status, "error")
    out = SolveOutput(status, stats={"name": "cvxpy", "seconds": seconds, "raw_status": problem.status,
                                     "mip": bool(lp.integer.any())})
    if status == "optimal" and z.value is not None:
        out.z = np.asarray(z.value, dtype=float)
        out.objective = float(problem.value)
        if not lp.integer.any() and all(c.dual_value is not None for c in cons[:n_model]):
            y = np.zeros(lp.A.shape[0])
            for con, (rows, flag) in zip(cons[:n_model], index):
                d = np.asarray(con.dual_value, dtype=float).reshape(-1)
                y[rows] = -d if flag else d
            out.row_dual = y
    return out
