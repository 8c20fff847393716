"""The optimal face: how much the optimal mechanisms can differ.

An LP's optimum need not be unique.  Two symmetric bidders in Myerson's (1981)
auction on a grid, for instance, share the object at the reserve in any
proportion that keeps revenue at its optimum, and welfare moves with the split.
:func:`face` measures this: it fixes the objective at its optimum,

    c·z + offset ≥ optimum − tol,    tol = rel_tol · max(1, |optimum|),

keeps every row of the design's LP, and minimizes and maximizes each metric
(a linear function of the LP's columns, built by the same code that builds the
objective: :func:`mechopt.compile.objective.objective_vector`).  ``rel_tol``
defaults to 1e-9 (HiGHS returns optima accurate to about that) and well below any
economically meaningful difference; a range narrower than ``rel_tol`` times the
metric's scale is reported as a point.

The LP is the result's own (``result.lp``), so reductions that provably keep the
optimal value (adjacent IC, interim payments, Border) are in place: the face is
then the set of optimal *interim* mechanisms, which is what every metric below
depends on.  An LP built by IC row generation (a relaxation) is recompiled in
full first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import SolverError, SpecError

if TYPE_CHECKING:  # pragma: no cover
    from .compile import LinearProgram
    from .result import Result

__all__ = ["face", "is_unique", "metric_vector", "METRICS"]

METRICS = ("revenue", "welfare", "utility", "gains")
REL_TOL = 1e-9
FACE_TABLE = 2_000_000  # lottery columns (S·K) of the ex post LP a face is computed on at most


def metric_vector(lp: LinearProgram, metric: str) -> tuple[np.ndarray, float]:
    """A metric as a linear function ``(c, offset)`` of the LP's columns.

    Parameters
    ----------
    lp : LinearProgram
    metric : {"revenue", "welfare", "utility", "gains"}

    Returns
    -------
    c : ndarray, shape (N,)
    offset : float
    """
    from .compile.layout import Data
    from .compile.objective import objective_vector

    if metric not in METRICS:
        raise SpecError(f"face: unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    design = lp.design.replace(objective=metric)
    c, offset = objective_vector(design, lp.layout, Data.of(design, exact=False))
    return np.asarray(c, dtype=float), float(offset)


def _interim_vectors(lp: LinearProgram) -> tuple[list[str], list[np.ndarray]]:
    """Interim probability of each of an agent's value groups, per agent and type.

    Returns names ``"P[<outcomes>] <agent>=<type>"`` and vectors of shape (N,):
    under the Border reduction the win-probability column Q_i(t); otherwise
    ``Σ_r π(θ_{-i} = r | t) Σ_{k in group} x(t, r, k)``.
    """
    from .compile.layout import Data

    lay, env = lp.layout, lp.design.env
    data = Data.of(lp.design, exact=False)
    names, vecs = [], []
    for i, a in enumerate(env.agents):
        view = lay.agent_view(i)
        beliefs = data.beliefs(i, lay.shape)
        for outcomes in lay.groups[i]:
            label = "+".join(env.outcomes[k] for k in outcomes)
            for t in range(lay.shape[i]):
                v = np.zeros(lay.n_cols)
                if lay.ex_post_x:
                    for k in outcomes:
                        np.add.at(v, lay.xcol(view[t], k), beliefs[t])
                else:
                    v[lay.X0[i] + t] = 1.0
                names.append(f"P[{label}] {a.name}={a.type_labels[t]}")
                vecs.append(v)
    return names, vecs


def face(result: Result, metrics: Sequence[str] = ("revenue", "welfare", "utility"), interim: bool = False,
         rel_tol: float = REL_TOL) -> pd.DataFrame:
    """Range of each metric over the optimal mechanisms.

    Parameters
    ----------
    result : Result
        An optimal result (highs or cvxpy backend without user constraints).
    metrics : sequence of str
        Any of ``revenue``, ``welfare``, ``utility``, ``gains``.
    interim : bool
        Also give the range of every interim allocation probability (per agent,
        type and group of outcomes the agent values alike), rows ``P[...] agent=type``.
    rel_tol : float
        The objective is held within ``rel_tol · max(1, |optimum|)`` of the optimum.

    Returns
    -------
    DataFrame
        Index: metric; columns ``min``, ``max``, ``width`` (= max − min).

    Examples
    --------
    >>> import mechopt as mo
    >>> bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 11)) for i in (1, 2)]
    >>> r = mo.Design(mo.single_item(bidders), objective="revenue").solve()
    >>> f = r.face(("revenue", "welfare"))
    >>> round(float(f.loc["revenue", "min"]) * 11, 6), bool(f.loc["welfare", "width"] > 1e-3)
    (5.0, True)
    """
    import highspy
    import scipy.sparse as sp

    from .backends.highs import highs_lp, scaling

    if result.status != "optimal":
        raise SolverError(f"face: the result is {result.status}, not optimal; the optimal face needs an optimum")
    if result.design.deterministic:
        raise SpecError("face: deterministic designs are MIPs; the face is defined for the LP (deterministic=False)")
    lp = result.lp
    if result.output.stats.get("user_terms"):
        raise SpecError("face: this result has user constraints or a user objective (cvxpy backend); the face is "
                        "computed on the design's own LP, so solve without them (or with backend='highs')")
    restricting = ("symmetry", "counts", "item_symmetry", "envelope", "item_border")
    if lp.plan.ic_pairs or lp.plan.border_cuts is not None or any(lp.plan.uses(n) for n in restricting):
        # Generated IC rows make a relaxation, and symmetric / anonymous / envelope formulations
        # keep only some of the optimal mechanisms (without loss for the optimum, not for its
        # face): the face is taken on the design's LP without them.
        from .compile import compile_design, make_plan

        env = result.design.env
        if env.n_profiles * env.n_outcomes > FACE_TABLE:
            raise SpecError(f"face: the optimal face is taken on the ex post LP, which would have "
                            f"{env.n_profiles * env.n_outcomes:.3g} lottery columns (> {FACE_TABLE:,}); "
                            "use a smaller grid")
        lp = compile_design(result.design, plan=make_plan(result.design, disabled=restricting))
    opt = float(result.output.objective)
    # the scaled model of the HiGHS backend (money / σ, rows ÷ their largest coefficient), so the
    # face is as accurate for values in units of 1e-9 as in units of 1: z = D z'
    R, D, gamma = scaling(lp)
    As = sp.diags(R) @ lp.A @ sp.diags(D)
    rhs = R * lp.rhs
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(highs_lp(As, -gamma * lp.c * D, lp.lb / D, lp.ub / D, rhs, np.where(lp.equality, rhs, np.inf)))
    tol = rel_tol * max(float(lp.scale), abs(opt))  # relative to the problem's money unit
    goal_c = gamma * np.asarray(lp.c, dtype=float) * D
    nz = np.flatnonzero(goal_c)
    h.addRow(gamma * (opt - float(lp.offset) - tol), np.inf, nz.size, nz.astype(np.int32), goal_c[nz])
    row = np.array([lp.A.shape[0]], dtype=np.int32)
    for loosen in (1.0, 1e2, 1e4):  # the solver's optimum can overshoot by its own tolerance
        h.changeRowsBounds(1, row, np.array([gamma * (opt - float(lp.offset) - loosen * tol)]),
                           np.array([np.inf]))
        h.run()
        if h.getModelStatus().name == "kOptimal":
            break
    names, vecs = [], []
    for m in metrics:
        c, off = metric_vector(lp, m)
        names.append(m)
        vecs.append((c, off, gamma))  # money: optimized in the scaled unit
    if interim:
        for name, v in zip(*_interim_vectors(lp)):
            names.append(name)
            vecs.append((v, 0.0, 1.0))  # probabilities
    rows = []
    idx = np.arange(lp.A.shape[1], dtype=np.int32)
    for (c, off, unit) in vecs:
        ends = []
        for sense in (1.0, -1.0):  # HiGHS minimizes: +c gives the min, −c the max
            h.changeColsCost(idx.size, idx, sense * unit * c * D)
            h.setBasis()  # cold start keeps each solve independent of the previous
            h.run()
            status = h.getModelStatus().name
            if status != "kOptimal":
                raise SolverError(f"face: HiGHS returned {status} while optimizing over the optimal face")
            ends.append(float(c @ (D * np.asarray(h.getSolution().col_value))) + off)
        rows.append(ends)
    df = pd.DataFrame(rows, index=pd.Index(names, name="metric"), columns=["min", "max"])
    df["width"] = df["max"] - df["min"]
    return df


def is_unique(result: Result, rel_tol: float = 1e-6) -> bool:
    """Whether every optimal mechanism has the same revenue, welfare, utility and interim allocation.

    ``False`` proves the optimal face has more than one point (two optimal
    mechanisms differ in a metric by more than ``rel_tol · max(1, scale)``);
    ``True`` means the face is a point in all those coordinates (ex post
    allocations that share their interim allocation are not told apart).
    """
    f = face(result, metrics=("revenue", "welfare", "utility"), interim=True)
    money = float(result.lp.scale) if result.lp is not None else 1.0
    unit = np.where(f.index.str.startswith("P["), 1.0, money)  # probabilities vs money metrics
    scale = np.maximum(unit, np.maximum(f["min"].abs(), f["max"].abs()))
    return bool((f["width"] <= rel_tol * scale).all())
