"""HiGHS through highspy, directly: the default and fast backend.

The LP is handed over as a minimization of ``−c`` with row bounds
``[b, +inf)`` for ``≥`` rows and ``[b, b]`` for ``=`` rows.  With that
orientation HiGHS's row duals are exactly mechopt's λ (see
:mod:`mechopt.backends.base`): λ = ∂(min −value)/∂b = −∂value/∂b.
HiGHS's dual ray for an infeasible LP is returned with the sign that makes
``yᵀb > 0``.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ..errors import SolverError
from .base import Basis, SolveOutput
from .options import validate_options

if TYPE_CHECKING:  # pragma: no cover
    from ..compile import LinearProgram

try:  # pragma: no cover - import guard
    import highspy
except ImportError:  # pragma: no cover
    highspy = None

IPM_NNZ = 150_000  # above this many nonzeros, default to interior point + crossover

_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit",
    "kModelEmpty": "optimal",
    "kInterrupt": "interrupted",
}


def highs_lp(A, cost, col_lower, col_upper, row_lower, row_upper, offset: float = 0.0, integer=None):
    """A ``highspy.HighsLp``: ``min cost·z + offset`` s.t. ``row_lower ≤ A z ≤ row_upper``, column bounds.

    ``A`` is any scipy.sparse matrix (passed column-wise); ``integer`` an optional boolean mask.
    """
    if highspy is None:  # pragma: no cover
        raise SolverError("highspy is not installed; pip install highspy")
    model = highspy.HighsLp()
    m, n = A.shape
    model.num_col_ = n
    model.num_row_ = m
    model.col_cost_ = np.asarray(cost, dtype=float)
    model.col_lower_ = np.asarray(col_lower, dtype=float)
    model.col_upper_ = np.asarray(col_upper, dtype=float)
    model.row_lower_ = np.asarray(row_lower, dtype=float)
    model.row_upper_ = np.asarray(row_upper, dtype=float)
    A = A.tocsc()
    A.sort_indices()
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr
    model.a_matrix_.index_ = A.indices
    model.a_matrix_.value_ = A.data
    model.a_matrix_.num_col_ = n
    model.a_matrix_.num_row_ = m
    model.offset_ = float(offset)
    if integer is not None and np.any(integer):
        model.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in integer
        ]
    return model


def build_highs(lp: LinearProgram, verbose: bool = False):
    """A ``highspy.Highs`` holding ``lp`` as ``min −c·z``."""
    if highspy is None:  # pragma: no cover
        raise SolverError("highspy is not installed; pip install highspy")
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    h.passModel(highs_lp(
        lp.A, -lp.c, lp.lb, lp.ub, lp.rhs, np.where(lp.equality, lp.rhs, np.inf),
        offset=-float(lp.offset), integer=lp.integer,
    ))
    return h


def write_lp(lp: LinearProgram, path: str) -> None:
    """Write an LP to an ``.mps`` or ``.lp`` file (format from the suffix), for debugging."""
    h = build_highs(lp)
    status = h.writeModel(str(path))
    if str(status) not in ("HighsStatus.kOk", "HighsStatus.kWarning"):
        raise OSError(f"HiGHS could not write {path}: {status}")


def _pow2(x: np.ndarray) -> np.ndarray:
    """Nearest powers of two (1 where x is 0 or not finite): scaling by them is exact in floats."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x) & (x > 0)
    out = np.ones_like(x)
    out[ok] = 2.0 ** np.round(np.log2(x[ok]))
    return out


def scaling(lp: LinearProgram) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact (power-of-two) scaling that puts the LP's money data at O(1).

    Money columns (payments) are multiplied by the problem's unit σ = ``lp.scale``
    (``z = D z'``), every row is divided by the power of two nearest its largest
    coefficient (``R``), and the objective by σ (``γ = 1/σ``), so HiGHS's absolute
    tolerances mean the same thing whether values are in units of 1e-9 or 1e9.
    The solution, duals and rays are unscaled in :func:`solve`:
    ``z = D z'``, ``λ = R λ' / γ``, reduced costs ``r = r' / (γ D)``.

    Returns
    -------
    R : ndarray, shape (m,)
    D : ndarray, shape (N,)
    gamma : float
    """
    sigma = float(lp.scale) if lp.scale and np.isfinite(lp.scale) else 1.0
    D = np.where(lp.payment_columns(), sigma, 1.0)
    AD = lp.A @ sp.diags(D)
    big = abs(AD).max(axis=1).toarray().ravel() if AD.shape[0] else np.zeros(0)
    R = 1.0 / _pow2(big)
    return R, D, 1.0 / sigma


def _solve_once(h) -> tuple[str, bool]:
    """Run HiGHS in its own thread so that Ctrl-C cancels it within ~0.1 s; (raw status, interrupted).

    Only the main thread receives Ctrl-C: elsewhere (a thread pool of a sweep) HiGHS runs
    directly, since concurrent solver threads of highspy reset a shared scheduler.
    """
    if threading.current_thread() is not threading.main_thread():
        h.run()
        return h.getModelStatus().name, False
    h.HandleUserInterrupt = True
    h.startSolve()
    interrupted = False
    while True:
        try:
            done, _ = h.wait(0.1)
            if done:
                break
        except KeyboardInterrupt:
            interrupted = True
            h.cancelSolve()
    return h.getModelStatus().name, interrupted


def solve(lp: LinearProgram, time_limit: float | None = None, verbose: bool = False,
          presolve: bool = True, scale: bool = True, warm: Any = None, basis: Basis | None = None,
          **options: Any) -> SolveOutput:
    """Solve with HiGHS and translate status, solution, duals and rays.

    Parameters
    ----------
    lp : LinearProgram
    time_limit : float, optional
        Seconds.
    verbose : bool
        Show HiGHS's log.
    presolve : bool
        HiGHS presolve (an "infeasible or unbounded" answer is re-solved without it).
    scale : bool
        Exact power-of-two scaling of money columns and rows (:func:`scaling`).
    warm : mechopt.sweeps.WarmStart, optional
        Keep one HiGHS instance across consecutive solves (sweeps): when the scaled
        matrix is unchanged only costs and bounds are replaced and HiGHS starts from
        its last basis.
    basis : Basis, optional
        A starting basis for this LP (same columns and rows; e.g. the previous round of a
        row-generation loop with the new rows basic): HiGHS hot-starts the simplex from it
        (without presolve).  HiGHS can call a hot-started answer optimal when it is not
        (HiGHS issue 3194), so a caller checks :func:`~mechopt.backends.base.kkt_residual`.
    **options
        Any other HiGHS option, by name. Without ``solver=``, LPs with more than
        150,000 nonzeros use the interior-point method with crossover (so bases and
        duals stay available): measured 57 s against 334 s for dual simplex on
        two-bidder DSIC at T = 201, 4.4 s against 5.5 s on two-bidder BIC at T = 201.

    Returns
    -------
    SolveOutput
        ``status`` is one of optimal, infeasible, unbounded, time_limit,
        interrupted, error (``message`` says why for anything but optimal).
    """
    options = validate_options(
        {**options, "verbose": verbose, **({} if time_limit is None else {"time_limit": time_limit})}
    )
    time_limit, verbose = options.pop("time_limit", None), options.pop("verbose")
    if highspy is None:  # pragma: no cover
        raise SolverError("highspy is not installed; pip install highspy")
    if scale:
        R, D, gamma = scaling(lp)
    else:
        R, D, gamma = np.ones(lp.A.shape[0]), np.ones(lp.A.shape[1]), 1.0
    As = sp.diags(R) @ lp.A @ sp.diags(D)
    rhs = R * lp.rhs
    model = (As, -gamma * lp.c * D, lp.lb / D, lp.ub / D, rhs, np.where(lp.equality, rhs, np.inf),
             -gamma * float(lp.offset), lp.integer)
    if warm is not None:  # a sweep's kept instance (mechopt.sweeps.WarmStart): hot start when A is unchanged
        h = warm.model(*model, verbose=verbose)
    else:
        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(verbose))
        h.passModel(highs_lp(*model[:6], offset=model[6], integer=model[7]))
        if basis is not None and basis.col_status.size == lp.A.shape[1] and basis.row_status.size == lp.A.shape[0]:
            hb = highspy.HighsBasis()
            hb.col_status = [highspy.HighsBasisStatus(int(v)) for v in basis.col_status]
            hb.row_status = [highspy.HighsBasisStatus(int(v)) for v in basis.row_status]
            hb.valid = True
            h.setBasis(hb)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if not presolve:
        h.setOptionValue("presolve", "off")
    if "solver" not in options and lp.A.nnz > IPM_NNZ and not lp.integer.any():
        options = {**options, "solver": "ipm"}
    for key, value in options.items():
        h.setOptionValue(key, value)
    start = time.perf_counter()
    relaxed = _relaxation_unbounded(model, options) if lp.integer.any() else False
    if relaxed:
        # HiGHS's MIP solver can report a finite "optimum" for an unbounded MIP (found by the
        # fuzz run); with rational data a feasible MIP whose relaxation is unbounded is unbounded
        raw, interrupted = _decide_mip(h, lp.A.shape[1])
    else:
        raw, interrupted = _solve_once(h)
    ray = None
    if not interrupted and raw == "kInfeasible" and not lp.integer.any():
        ray = _ray(h, lp, R)
    if not interrupted and (raw == "kUnboundedOrInfeasible" or (raw == "kInfeasible" and ray is None
                                                                 and not lp.integer.any())):
        # HiGHS's presolve can call an unbounded LP infeasible (seen on a 21-row LP); an
        # infeasibility claim without a checkable Farkas ray is re-solved without presolve.
        h.setOptionValue("presolve", "off")
        raw, interrupted = _solve_once(h)
        ray = _ray(h, lp, R) if raw == "kInfeasible" and not lp.integer.any() else None
    if not interrupted and raw == "kUnbounded" and not lp.integer.any() and presolve \
            and _primal_ray(h, lp, D) is None:
        # HiGHS's presolve can also call a bounded LP unbounded (found on a 3-agent, 6-type BIC
        # design with masses 1e-3..0.77): an unboundedness claim without a checkable improving ray
        # is re-solved without presolve
        h.setOptionValue("presolve", "off")
        raw, interrupted = _solve_once(h)
    if not interrupted and raw == "kUnboundedOrInfeasible" and lp.integer.any():
        # a MIP: "unbounded or infeasible" is decided by its feasibility problem (zero cost)
        raw, interrupted = _decide_mip(h, lp.A.shape[1])
    seconds = time.perf_counter() - start
    info = h.getInfo()
    status = "interrupted" if interrupted else _STATUS.get(raw, "error")
    stats = {
        "name": "highs",
        "seconds": seconds,
        "raw_status": raw,
        "iterations": int(getattr(info, "simplex_iteration_count", 0) or 0),
        "mip": bool(lp.integer.any()),
        "method": options.get("solver", "simplex"),
    }
    out = SolveOutput(status=status, stats=stats)
    if status == "interrupted":
        out.message = "interrupted by the user (Ctrl-C); HiGHS was cancelled"
    elif status == "error":
        out.message = f"HiGHS ended without an answer (model status {raw})"
    elif status == "time_limit":
        out.message = f"HiGHS reached the time limit ({time_limit} s)"
    if status in ("optimal", "time_limit", "interrupted"):
        sol = h.getSolution()
        if sol.value_valid:
            out.z = D * np.asarray(sol.col_value, dtype=float)
            out.objective = float(lp.c @ out.z + lp.offset)
        if sol.dual_valid and not lp.integer.any():
            out.row_dual = R * np.asarray(sol.row_dual, dtype=float) / gamma
            out.col_dual = -np.asarray(sol.col_dual, dtype=float) / (gamma * D)
        if status == "optimal" and not lp.integer.any():
            b = h.getBasis()
            out.basis = Basis(
                np.fromiter((int(v) for v in b.col_status), dtype=np.int8, count=len(b.col_status)),
                np.fromiter((int(v) for v in b.row_status), dtype=np.int8, count=len(b.row_status)),
                bool(b.valid),
            )
    elif status == "infeasible" and not lp.integer.any():
        out.dual_ray = ray
    elif status == "unbounded":
        _, has, ray = h.getPrimalRay()
        if has:
            out.primal_ray = D * np.asarray(ray, dtype=float)
    return out


def _relaxation_unbounded(model: tuple, options: dict) -> bool:
    """Whether the LP relaxation of a MIP (the ``model`` tuple :func:`solve` builds) is unbounded."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(highs_lp(*model[:6], offset=model[6]))
    h.setOptionValue("presolve", "off")  # presolve may call an unbounded LP infeasible
    for key in ("time_limit", "threads"):
        if key in options:
            h.setOptionValue(key, options[key])
    h.run()
    return h.getModelStatus().name in ("kUnbounded", "kUnboundedOrInfeasible") and \
        h.getModelStatus().name != "kInfeasible"


def _decide_mip(h, n_cols: int) -> tuple[str, bool]:
    """Status of a MIP that HiGHS called "unbounded or infeasible".

    With zero costs the MIP is a feasibility problem: infeasible there means
    infeasible; feasible means the original MIP is not infeasible, hence unbounded.
    """
    cost = np.asarray(h.getLp().col_cost_, dtype=float).copy()
    h.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), np.zeros(n_cols))
    raw, interrupted = _solve_once(h)
    h.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), cost)
    if raw == "kOptimal":
        return "kUnbounded", interrupted
    return raw, interrupted


def _primal_ray(h, lp: LinearProgram, D: np.ndarray, tol: float = 1e-7) -> np.ndarray | None:
    """HiGHS's primal ray as an improving direction d of the unscaled LP (``A d ≥ 0``, ``= 0`` on
    equality rows, within the bounds' recession cone, ``c·d > 0``), or None when there is none or it
    fails that check in floating point (relative to the ray's size)."""
    _, has, ray = h.getPrimalRay()
    if not has:
        return None
    d = D * np.asarray(ray, dtype=float)
    size = float(np.abs(d).max(initial=0.0))
    if not np.isfinite(size) or size == 0.0:
        return None
    d = d / size
    Ad = lp.A @ d
    scale = max(1.0, float(abs(lp.A).max())) if lp.A.nnz else 1.0
    ok = (
        float(lp.c @ d) > tol * max(1.0, float(np.abs(lp.c).max(initial=0.0)))
        and (Ad[~lp.equality] >= -tol * scale).all()
        and (np.abs(Ad[lp.equality]) <= tol * scale).all()
        and (d[np.isfinite(lp.lb)] >= -tol).all()
        and (d[np.isfinite(lp.ub)] <= tol).all()
    )
    return d if ok else None


def _ray(h, lp: LinearProgram, R: np.ndarray | None = None, tol: float = 1e-7) -> np.ndarray | None:
    """HiGHS's dual ray as a Farkas vector y (≥ 0 on ≥ rows, yᵀA within the bounds, yᵀb > 0),
    or None when there is none or it fails that check in floating point.

    ``R`` is the row scaling of the model HiGHS solved: the check runs on that
    (O(1)) model, and the ray is returned for the unscaled LP (``y = R y'``).
    """
    _, has, ray = h.getDualRay()
    if not has:
        return None
    R = np.ones(lp.A.shape[0]) if R is None else R
    y = np.asarray(ray, dtype=float)
    rhs = R * lp.rhs
    if y @ rhs < 0:
        y = -y
    y = y / max(1e-300, float(np.abs(y).max()))
    g = lp.A.T @ (R * y)  # column scaling D > 0 keeps the signs of (yᵀ R A D)_j
    D = np.where(lp.payment_columns(), float(lp.scale or 1.0), 1.0)
    g = g * D
    free = ~np.isfinite(lp.lb) & ~np.isfinite(lp.ub)
    lower = np.isfinite(lp.lb) & ~np.isfinite(lp.ub)
    ok = (
        y @ rhs > tol
        and (y[~lp.equality] >= -tol).all()
        and (np.abs(g[free]) <= tol).all()
        and (g[lower] <= tol).all()
    )
    return R * y if ok else None
