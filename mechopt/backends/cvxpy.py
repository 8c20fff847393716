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
import scipy.sparse as sp

from ..errors import SolverError
from .base import SolveOutput

if TYPE_CHECKING:  # pragma: no cover
    from ..compile import LinearProgram

# cvxpy status -> (mechopt status, message).  "*_inaccurate" keeps the status but always says so;
# infeasibility claims are confirmed by a second solve (see _resolve_infeasible).
_STATUS = {
    "optimal": ("optimal", ""),
    "infeasible": ("infeasible", ""),
    "unbounded": ("unbounded", ""),
    "optimal_inaccurate": ("optimal", "cvxpy reports optimal_inaccurate: the solver stopped at "
                           "reduced accuracy; the independent verifier decides"),
    "infeasible_inaccurate": ("infeasible", "cvxpy reports infeasible_inaccurate"),
    "unbounded_inaccurate": ("unbounded", "cvxpy reports unbounded_inaccurate"),
    "infeasible_or_unbounded": ("infeasible", "cvxpy reports infeasible_or_unbounded"),
    "user_limit": ("time_limit", "the solver stopped at a user limit (time or iterations)"),
}
_CHECK_FEASIBILITY = ("infeasible", "infeasible_inaccurate", "infeasible_or_unbounded", "unbounded_inaccurate")


class CvxpyModel:
    """The LP as cvxpy objects, for user constraints and objectives."""

    def __init__(self, lp: LinearProgram, D: np.ndarray | None = None) -> None:
        import cvxpy as cp

        self.lp = lp
        self.env = lp.design.env
        lay = lp.layout
        # the solver's variable is in scaled units (money / σ, see backends.highs.scaling);
        # z, x and p are expressions in the user's units, so user constraints read naturally
        self.zs = cp.Variable(lp.A.shape[1], name="z")
        self.z = self.zs if D is None else cp.multiply(D, self.zs)
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


def _user_constraints(extra: Any) -> list[tuple[str, Any]]:
    """(label, constraint) pairs from what a ``constraints=`` callable returned.

    A dict ``{name: constraint}`` names them; a list or a single constraint is
    labelled by cvxpy's own text of the constraint.
    """
    import cvxpy as cp

    if isinstance(extra, dict):
        items = [(str(k), v) for k, v in extra.items()]
    elif isinstance(extra, (list, tuple)):
        items = [(None, v) for v in extra]
    else:
        items = [(None, extra)]
    out = []
    for j, (label, con) in enumerate(items):
        if not isinstance(con, cp.constraints.constraint.Constraint):
            raise SolverError(
                f"constraints= must return cvxpy constraints (e.g. m.x[:, 1] <= 0.9), got {type(con).__name__}"
            )
        if label is None:
            text = str(con)
            label = f"c{j}: {text}" if len(text) <= 60 else f"c{j}"
        out.append((label, con))
    return out


def _user_duals(user: list[tuple[str, Any]]):
    """Duals of user constraints in mechopt's convention: one row per scalar entry.

    For ``expr >= rhs`` (or ``expr <= rhs``) the dual is λ ≥ 0, the value lost per
    unit tightening (λ = −∂value/∂rhs for ``≥``, +∂value/∂rhs for ``≤``); for
    ``lhs == rhs`` λ = −∂value/∂rhs (cvxpy's sign, negated, as for the model's
    equality rows).
    """
    import cvxpy as cp
    import pandas as pd

    rows = []
    for label, con in user:
        if con.dual_value is None:
            return None
        d = np.asarray(con.dual_value, dtype=float).reshape(-1)
        equality = isinstance(con, (cp.constraints.Equality, cp.constraints.Zero))
        sense = "==" if equality else "<=" if isinstance(con, cp.constraints.Inequality) else type(con).__name__
        for e, v in enumerate(-d if equality else d):
            rows.append((label if d.size == 1 else f"{label}[{e}]", label, e, sense, float(v)))
    return pd.DataFrame(rows, columns=["constraint", "name", "entry", "sense", "dual"])


def _describe(lp: LinearProgram, objective: Callable | None, user: list[tuple[str, Any]]) -> str:
    """The design's one-line description with a user objective named and user constraints listed."""
    text = lp.design.describe()
    if objective is not None:
        name = getattr(objective, "__name__", "")
        name = "a user objective" if not name or name == "<lambda>" else f"user objective {name}"
        head, _, tail = text.partition(" s.t. ")
        text = f"maximize {name} s.t. {tail}" if tail else f"maximize {name}"
    if user:
        text += "; user constraints: " + ", ".join(label for label, _ in user)
    return text


def _call(fn: Callable, model: CvxpyModel, key: str):
    """Call a user function on the model; its failure is reported as a one-line SolverError."""
    try:
        return fn(model)
    except Exception as exc:  # user code: any failure is the user's input
        raise SolverError(f"the {key}= function failed: {type(exc).__name__}: {exc}") from None


def _solve_problem(problem, opts: dict, verbose: bool) -> str:
    import cvxpy as cp

    try:
        problem.solve(solver="HIGHS", verbose=verbose, **opts)
    except cp.error.SolverError as exc:
        return f"error: {exc}"
    return str(problem.status)


def _resolve_infeasible(cons: list, opts: dict, verbose: bool) -> str:
    """Second solve with a zero objective: tells infeasible from unbounded."""
    import cvxpy as cp

    return _solve_problem(cp.Problem(cp.Maximize(0), cons), opts, verbose)


def solve(lp: LinearProgram, constraints: Callable | None = None, objective: Callable | None = None,
          time_limit: float | None = None, verbose: bool = False, **options: Any) -> SolveOutput:
    """Solve ``lp`` through cvxpy (HiGHS), optionally with user constraints/objective.

    Parameters
    ----------
    lp : LinearProgram
    constraints : callable, optional
        ``m -> constraint | list | dict[name, constraint]`` on a :class:`CvxpyModel`.
        Their duals come back in ``SolveOutput.user_duals`` (``result.duals["user"]``).
    objective : callable, optional
        ``m -> expression`` to maximize instead of the design's objective.
    time_limit : float, optional
        Seconds.
    verbose : bool
    **options
        HiGHS options (validated by :func:`mechopt.backends.options.validate_options`).

    Returns
    -------
    SolveOutput
        ``status`` translated from cvxpy: an "infeasible" or
        "infeasible_or_unbounded" answer is confirmed by a second solve with a
        zero objective (feasible there means unbounded); ``*_inaccurate`` keeps
        its status with ``message`` saying so.
    """
    try:
        import cvxpy as cp
    except ImportError as exc:  # pragma: no cover
        raise SolverError("the cvxpy backend needs cvxpy; pip install cvxpy") from exc
    from .options import validate_options

    opts = validate_options(
        {**options, "verbose": verbose, **({} if time_limit is None else {"time_limit": time_limit})}
    )
    verbose = opts.pop("verbose")
    for key in ("max_memory", "exact"):  # mechopt-level options, handled before the backend
        opts.pop(key, None)
    if isinstance(opts.get("presolve"), bool):
        opts["presolve"] = "choose" if opts["presolve"] else "off"
    from .highs import scaling

    # the same exact power-of-two scaling as the HiGHS backend: money columns × σ, rows ÷ their
    # largest coefficient, objective ÷ σ (values in units of 1e-9 or 1e9 solve like O(1) data)
    R, D, gamma = scaling(lp)
    model = CvxpyModel(lp, D)
    z, zs = model.z, model.zs
    As = sp.diags(R) @ lp.A @ sp.diags(D)
    rhs = R * lp.rhs
    cons, index = [], []
    for f in lp.families:
        A = As[f.start: f.stop]
        eq = lp.equality[f.start: f.stop]
        b = rhs[f.start: f.stop]
        for flag in (True, False):
            rows = np.flatnonzero(eq == flag)
            if rows.size == 0:
                continue
            expr = A[rows] @ zs
            cons.append(expr == b[rows] if flag else expr >= b[rows])
            index.append((f.start + rows, flag))
    finite_lb = np.isfinite(lp.lb)
    if finite_lb.any():
        cons.append(zs[np.flatnonzero(finite_lb)] >= (lp.lb / D)[finite_lb])
    finite_ub = np.isfinite(lp.ub)
    if finite_ub.any():
        cons.append(zs[np.flatnonzero(finite_ub)] <= (lp.ub / D)[finite_ub])
    n_model = len(index)
    for key, fn in (("constraints", constraints), ("objective", objective)):
        if fn is not None and not callable(fn):
            raise SolverError(f"{key}= must be a function of the cvxpy model (m -> ...), got {type(fn).__name__}")
    user = _user_constraints(_call(constraints, model, "constraints")) if constraints is not None else []
    cons.extend(con for _, con in user)
    goal = _call(objective, model, "objective") if objective is not None else (lp.c * D) @ zs + float(lp.offset)
    if objective is not None and (not isinstance(goal, cp.Expression) or goal.size != 1):
        raise SolverError("objective= must return one scalar cvxpy expression (e.g. m.revenue + 0.5 * m.welfare)")
    if lp.integer.any():
        zi = cp.Variable(lp.A.shape[1], integer=True)
        cons.append(z[lp.integer] == zi[lp.integer])
    try:
        problem = cp.Problem(cp.Maximize(gamma * goal), cons)
    except (cp.error.DCPError, ValueError) as exc:
        raise SolverError(f"the user objective or constraints are not linear in m.x, m.p: {exc}") from None
    if not problem.is_dcp():
        raise SolverError("the user objective and constraints (constraints=, objective=) must be linear in m.x, m.p")
    start = time.perf_counter()
    raw = _solve_problem(problem, opts, verbose)
    stats = {"name": "cvxpy", "raw_status": raw, "mip": bool(lp.integer.any()),
             "description": _describe(lp, objective, user), "user_objective": objective is not None}
    if raw.startswith("error"):
        stats["seconds"] = time.perf_counter() - start
        return SolveOutput("error", message=raw, stats=stats)
    status, message = _STATUS.get(raw, ("error", f"cvxpy returned status {raw!r}"))
    if raw in _CHECK_FEASIBILITY:
        check = _resolve_infeasible(cons, opts, verbose)
        stats["resolve_status"] = check
        if check in ("optimal", "optimal_inaccurate"):
            status = "unbounded"
            message = (f"cvxpy reported {raw}; a feasible point exists (second solve), so the LP is unbounded"
                       + (" (inaccurate)" if raw.endswith("inaccurate") else ""))
        elif check == "infeasible":
            status = "infeasible"
            message = "" if raw == "infeasible" else f"cvxpy reported {raw}; confirmed infeasible by a second solve"
        else:
            status = "error"
            message = f"cvxpy reported {raw} and the feasibility re-solve {check}"
    stats["seconds"] = time.perf_counter() - start
    out = SolveOutput(status, message=message, stats=stats)
    if status in ("optimal", "time_limit") and z.value is not None:
        out.z = D * np.asarray(zs.value, dtype=float)
        out.objective = None if problem.value is None else float(problem.value) / gamma
        if not lp.integer.any() and all(c.dual_value is not None for c in cons[:n_model]):
            y = np.zeros(lp.A.shape[0])
            for con, (rows, flag) in zip(cons[:n_model], index):
                d = np.asarray(con.dual_value, dtype=float).reshape(-1)
                y[rows] = (-d if flag else d) * R[rows] / gamma  # unscaled: λ = R λ' / γ
            out.row_dual = y
            if user:
                duals = _user_duals(user)
                if duals is not None:
                    duals["dual"] = duals["dual"] / gamma  # user rows are in the user's units
                out.user_duals = duals
    return out
