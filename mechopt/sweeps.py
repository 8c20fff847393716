"""Sweeps, thresholds and the continuum limit.

Mechanisms are often studied as curves: revenue as the reserve moves, the
smallest dissolvable share as the grid refines, the continuum value a sequence
of discrete optima converges to.  This module solves many designs at once:

* :func:`sweep` — one row per parameter point (a pandas DataFrame), in process,
  on a process pool, on any :class:`concurrent.futures.Executor` or on a
  ``dask.distributed.Client``; the same DataFrame whichever executor runs it.
* :func:`threshold` — bisection of a scalar parameter on feasibility (the
  smallest dissolvable share of a partnership, Cramton–Gibbons–Klemperer 1987;
  the largest cost a public project can carry).
* :func:`converge` — a sequence of grid sizes n, with Richardson extrapolation
  in h = 1/n to the continuum (:class:`Convergence`).

Warm starts
-----------
Points are solved in *chunks* of consecutive points (the chunking depends only
on the number of points, never on the executor, which is why every executor
returns the same numbers).  Inside a chunk one HiGHS instance is kept
(:class:`WarmStart`): when the next point's LP has the same matrix (same rows,
columns and coefficients; only the objective, bounds or right-hand sides
differ), the costs and bounds are changed in place and dual simplex restarts
from the previous basis.  A hot start skips presolve, and HiGHS 1.15 can report
"Optimal" for a warm-started point that is not optimal, so every warm-started
answer is checked twice — by mechopt's independent verifier (IC, IR, budget,
lottery) and by a KKT check written here (primal and dual feasibility and a
zero duality gap, recomputed from the LP data) — and re-solved cold if either
check fails.

Examples
--------
>>> import mechopt as mo
>>> from functools import partial
>>> def build(reserve, n=11):                                  # doctest: +SKIP
...     b = [mo.Agent(f"b{i}", mo.grid(0, 1, n)) for i in range(2)]
...     return mo.Design(mo.single_item(b, seller_value=reserve), ic="bic", ir="interim")
>>> df = mo.sweep(build, {"reserve": [0.0, 0.25, 0.5]})      # doctest: +SKIP
>>> df = mo.sweep(build, {"reserve": [0.0, 0.25, 0.5]}, executor=2)   # two processes
"""

from __future__ import annotations

import itertools
import json
import math
import multiprocessing
import os
import pickle
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import MechoptError, SolverError, SpecError

if TYPE_CHECKING:  # pragma: no cover
    from .design import Design
    from .result import Result

__all__ = ["sweep", "threshold", "converge", "Convergence", "WarmStart", "richardson", "KKT_TOL"]

KKT_TOL = 1e-7        # relative primal/dual infeasibility and duality gap accepted from a hot start
MAX_CHUNK = 50        # at most this many consecutive points share one HiGHS instance
CHUNKS = 4            # a sweep is cut into about this many chunks (fixed: executor-independent results)
COLUMNS = ("status", "objective", "revenue", "welfare", "utility", "verified", "warm", "seconds", "reductions")


# ============================================================================ warm starts
class WarmStart:
    """One HiGHS instance kept across consecutive solves (``backends.highs.solve(lp, warm=...)``).

    :meth:`model` hands the backend the instance to run: the kept one, with new
    costs and bounds, when ``lp.A`` equals the previous matrix exactly (same
    shape, sparsity and values; no integer columns), else a fresh one that is
    kept for the next call.  ``hot`` says which happened on the last call.
    """

    def __init__(self) -> None:
        self.highs = None
        self._A = None
        self.hot = False
        self.hot_solves = 0
        self.cold_solves = 0

    def model(self, A, cost, col_lower, col_upper, row_lower, row_upper, offset: float, integer,
              verbose: bool = False):
        """The ``highspy.Highs`` to run for ``min cost·z + offset`` s.t. ``row_lower ≤ A z ≤ row_upper``
        (the model the HiGHS backend built, already scaled; called by the backend)."""
        import highspy

        from .backends.highs import highs_lp

        A = sp.csc_matrix(A)
        A.sort_indices()
        same = (
            self.highs is not None and not np.any(integer) and self._A is not None and self._A.shape == A.shape
            and np.array_equal(self._A.indptr, A.indptr) and np.array_equal(self._A.indices, A.indices)
            and np.array_equal(self._A.data, A.data)
        )
        if same:
            h = self.highs
            n, m = A.shape[1], A.shape[0]
            cols, rows = np.arange(n, dtype=np.int32), np.arange(m, dtype=np.int32)
            h.changeColsCost(n, cols, np.asarray(cost, dtype=float))
            h.changeColsBounds(n, cols, np.asarray(col_lower, dtype=float), np.asarray(col_upper, dtype=float))
            h.changeRowsBounds(m, rows, np.asarray(row_lower, dtype=float), np.asarray(row_upper, dtype=float))
            h.changeObjectiveOffset(float(offset))
            h.setOptionValue("output_flag", bool(verbose))
            self.hot = True
            self.hot_solves += 1
            return h
        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(verbose))
        h.passModel(highs_lp(A, cost, col_lower, col_upper, row_lower, row_upper, offset=offset, integer=integer))
        self.highs, self._A, self.hot = h, A.copy(), False
        self.cold_solves += 1
        return h

    def reset(self) -> None:
        """Forget the kept instance (the next solve is cold)."""
        self.highs, self._A, self.hot = None, None, False


def kkt_residual(result: Result) -> float:
    """Largest relative violation of the LP optimality conditions at a result's solution
    (:func:`mechopt.backends.base.kkt_residual` of its LP and solver output)."""
    from .backends.base import kkt_residual as residual

    return residual(result.lp, result.output)


def _trusted(result: Result) -> bool:
    """A hot-started answer mechopt can report without a cold re-solve."""
    status = str(getattr(result.status, "value", result.status))
    if status == "optimal":
        return bool(result.verification.get("ok")) and kkt_residual(result) <= KKT_TOL
    if status == "infeasible":  # the backend only keeps a dual ray that passed its Farkas check
        return result.output.dual_ray is not None
    return False


def solve_point(design: Design, warm: WarmStart | None = None, **options: Any) -> tuple[Result, bool]:
    """Solve one design, hot-started from ``warm`` when the LP allows it.

    Returns ``(result, hot)``: ``hot`` is True when the reported answer came from
    a hot start that passed both checks (see the module docstring); a
    hot-started answer that fails them is replaced by a cold solve.
    """
    if warm is None or options.get("backend", "highs") != "highs":
        return design.solve(**options), False
    warm.hot = False
    result = design.solve(warm=warm, **options)
    if not warm.hot:
        return result, False
    if _trusted(result):
        return result, True
    warm.reset()
    return design.solve(warm=warm, **options), False


# ============================================================================ points and chunks
def _points(params: Any) -> list[dict[str, Any]]:
    """The parameter points: a dict of name → values (Cartesian product), a DataFrame or a list of dicts."""
    if isinstance(params, pd.DataFrame):
        points = params.to_dict("records")
    elif isinstance(params, Mapping):
        if not params:
            raise SpecError("sweep: params is empty; give a dict of name -> list of values, e.g. {'n': [11, 21]}")
        names, values = [], []
        for key, vals in params.items():
            if not isinstance(key, str):
                raise SpecError(f"sweep: parameter name {key!r} is not a string; use the names build() accepts")
            if isinstance(vals, (str, bytes)) or not isinstance(vals, Iterable):
                raise SpecError(
                    f"sweep: params[{key!r}] = {vals!r} is not a list of values; write {key!r}: [{vals!r}]"
                )
            vals = list(vals.tolist() if isinstance(vals, np.ndarray) else vals)
            if not vals:
                raise SpecError(f"sweep: params[{key!r}] has no values; give at least one")
            names.append(key)
            values.append(vals)
        points = [dict(zip(names, combo)) for combo in itertools.product(*values)]
    elif isinstance(params, Sequence) and not isinstance(params, (str, bytes)):
        points = list(params)
        for k, p in enumerate(points):
            if not isinstance(p, Mapping):
                raise SpecError(f"sweep: params[{k}] = {p!r} is not a dict; give a list of dicts name -> value")
        points = [dict(p) for p in points]
    else:
        raise SpecError(
            "sweep: params must be a dict of name -> values, a DataFrame or a list of dicts, "
            f"not {type(params).__name__}"
        )
    if not points:
        raise SpecError("sweep: params gives no points; give at least one value per parameter")
    for p in points:
        for key in p:
            if not isinstance(key, str):
                raise SpecError(f"sweep: parameter name {key!r} is not a string; use the names build() accepts")
            if key in COLUMNS or key == "result":
                raise SpecError(f"sweep: parameter name {key!r} is also a result column; rename it in build()")
    return points


def _chunks(n_points: int, chunksize: int | None) -> list[range]:
    if chunksize is None:
        chunksize = max(1, min(MAX_CHUNK, math.ceil(n_points / CHUNKS)))
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
        raise SpecError(f"sweep: chunksize must be a positive integer, got {chunksize!r}")
    return [range(s, min(s + chunksize, n_points)) for s in range(0, n_points, chunksize)]


def _build(build: Callable[..., Any], point: dict[str, Any]) -> Design:
    from .design import Design

    try:
        design = build(**point)
    except MechoptError:
        raise
    except TypeError as exc:
        raise SpecError(
            f"sweep: build({_show(point)}) failed: {exc}; make the parameter names match build's arguments"
        ) from None
    if not isinstance(design, Design):
        raise SpecError(
            f"sweep: build({_show(point)}) returned {type(design).__name__}, not a Design; return mo.Design(...)"
        )
    return design


def _show(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in point.items())


def _row(result: Result, hot: bool, seconds: float) -> dict[str, Any]:
    status = str(getattr(result.status, "value", result.status))
    m = result.metrics or {}
    obj = result.objective
    return {
        "status": status,
        "objective": float(obj) if obj is not None else np.nan,
        "revenue": float(m["revenue"]) if "revenue" in m else np.nan,
        "welfare": float(m["welfare"]) if "welfare" in m else np.nan,
        "utility": float(m["utility"]) if "utility" in m else np.nan,
        "verified": bool(result.verification.get("ok", False)),
        "warm": hot,
        "seconds": seconds,
        "reductions": json.dumps(result.reductions, sort_keys=True, default=str),
    }


def _run_chunk(build: Callable[..., Any], points: list[dict[str, Any]], keep: bool, warm: bool,
               options: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """Solve consecutive points with one kept HiGHS instance (runs in a worker)."""
    state = WarmStart() if warm else None
    out = []
    for point in points:
        start = time.perf_counter()
        design = _build(build, point)
        result, hot = solve_point(design, state, **options)
        out.append((_row(result, hot, time.perf_counter() - start), result if keep else None))
    return out


# ============================================================================ executors
def _is_dask(executor: Any) -> bool:
    mod = type(executor).__module__ or ""
    return mod.split(".")[0] == "distributed" and hasattr(executor, "submit") and hasattr(executor, "gather")


def _check_picklable(build: Callable[..., Any]) -> None:
    try:
        pickle.dumps(build)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        name = getattr(build, "__qualname__", type(build).__name__)
        raise SpecError(
            f"sweep: build ({name}) cannot be sent to worker processes ({exc}); define it at module level "
            "(not a lambda or a nested function) or wrap one with functools.partial, or use executor=None"
        ) from None


def _progress_bar(progress: Any, total: int, desc: str):
    """A callable ``update(k)`` (k points done) or None."""
    if progress is None or progress is False:
        return None, None
    if progress is True:
        import sys

        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit="pt", file=sys.stderr)
        return bar.update, bar.close
    if callable(progress):
        done = [0]

        def update(k: int) -> None:
            done[0] += k
            progress(done[0], total)

        return update, None
    raise SpecError(f"sweep: progress must be None, True or a callable f(done, total), not {progress!r}")


def _execute(build, points, chunks, keep, warm, options, executor, progress, desc="sweep"):
    """Run the chunks on the executor; results in point order."""
    update, close = _progress_bar(progress, len(points), desc)
    results: list[Any] = [None] * len(chunks)
    args = [([points[k] for k in ch], keep, warm, options) for ch in chunks]
    own = None
    try:
        if executor is None:
            for j, a in enumerate(args):
                results[j] = _run_chunk(build, *a)
                if update:
                    update(len(chunks[j]))
            return [r for chunk in results for r in chunk]
        if _is_dask(executor):
            from distributed import as_completed as dask_completed

            futures = [executor.submit(_run_chunk, build, *a, pure=False) for a in args]
            index = {f.key: j for j, f in enumerate(futures)}
            for fut in dask_completed(futures):
                j = index[fut.key]
                results[j] = fut.result()
                if update:
                    update(len(chunks[j]))
            return [r for chunk in results for r in chunk]
        if isinstance(executor, bool) or not (isinstance(executor, (int, Executor))):
            raise SpecError(
                f"sweep: executor must be None, an int (processes), a concurrent.futures.Executor or a "
                f"dask.distributed.Client, not {type(executor).__name__}"
            )
        if isinstance(executor, int):
            if executor < 1:
                raise SpecError(f"sweep: executor={executor} processes; give a positive number (or None)")
            _check_picklable(build)
            own = _process_pool(executor)
            pool = own
        else:
            if not isinstance(executor, ThreadPoolExecutor):
                _check_picklable(build)
            pool = executor
        futures = {pool.submit(_run_chunk, build, *a): j for j, a in enumerate(args)}
        for fut in as_completed(futures):
            j = futures[fut]
            results[j] = fut.result()
            if update:
                update(len(chunks[j]))
        return [r for chunk in results for r in chunk]
    finally:
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)
        if close:
            close()


def _process_pool(workers: int) -> ProcessPoolExecutor:
    """Spawned workers with one BLAS/OpenMP thread each (they inherit the environment at spawn)."""
    keys = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: "1" for k in keys})
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        for _ in range(workers):  # start the workers now, while the environment says one thread
            pool.submit(int, 0)
        pool.submit(int, 0).result()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return pool


def _solve_options(options: dict[str, Any]) -> dict[str, Any]:
    opts = dict(options)
    if opts.get("backend", "highs") == "highs":
        opts.setdefault("threads", 1)  # one HiGHS thread per worker: processes, not threads, give parallelism
    return opts


# ============================================================================ sweep
def sweep(
    build: Callable[..., Design],
    params: Mapping[str, Iterable[Any]] | pd.DataFrame | Sequence[Mapping[str, Any]],
    *,
    executor: None | int | Executor | Any = None,
    progress: bool | Callable[[int, int], Any] | None = None,
    keep: bool = False,
    warm: bool = True,
    chunksize: int | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Solve ``build(**point)`` at every parameter point.

    Parameters
    ----------
    build : callable
        ``build(**point) -> Design``.  For processes it must be picklable: a
        module-level function or a ``functools.partial`` of one (a lambda or a
        nested function is refused with that advice).
    params : dict, DataFrame or list of dicts
        ``{name: values}`` (the Cartesian product, in the order given, last name
        fastest), or one row / dict per point.
    executor : None, int, concurrent.futures.Executor or dask.distributed.Client
        ``None`` solves in this process; an int starts that many (spawned)
        processes; an Executor or a Dask client (LocalCluster or a real cluster,
        ``Client("tcp://scheduler:8786")``) runs the chunks it is given.  The
        DataFrame is the same whichever executor runs it (except ``seconds``).
    progress : bool or callable, optional
        ``True``: a tqdm bar on stderr; a callable ``f(done, total)`` is called
        as chunks finish.
    keep : bool
        Add a ``result`` column with each :class:`~mechopt.Result`.
    warm : bool
        Hot-start consecutive points that share the LP's matrix (see the module
        docstring); every hot-started answer is re-checked, and re-solved cold
        when a check fails.
    chunksize : int, optional
        Consecutive points solved by one worker with one HiGHS instance; by
        default ``ceil(points / 4)`` capped at 50 (depends on nothing else).
    **options
        Passed to :meth:`Design.solve` (e.g. ``backend="cvxpy"``, ``time_limit=60``).

    Returns
    -------
    pandas.DataFrame
        One row per point, shape ``(points, len(params) + 9 [+ 1])``: the parameters,
        then ``status``, ``objective`` (NaN unless optimal), ``revenue``,
        ``welfare``, ``utility`` (NaN without a mechanism), ``verified`` (the
        independent verifier accepted the mechanism), ``warm`` (the answer came
        from a hot start), ``seconds`` (build + solve of the point),
        ``reductions`` (JSON of ``result.reductions``) [, ``result``].

    Raises
    ------
    SpecError
        Malformed ``params``, a ``build`` that fails on a point or does not
        return a Design, an unpicklable ``build`` for processes, a bad executor.
    """
    points = _points(params)
    chunks = _chunks(len(points), chunksize)
    rows = _execute(build, points, chunks, bool(keep), bool(warm), _solve_options(options), executor, progress)
    frame = pd.DataFrame([{**p, **row} for p, (row, _) in zip(points, rows)])
    frame = frame[[c for c in frame.columns if c not in COLUMNS] + list(COLUMNS)]
    if keep:
        frame["result"] = [res for _, res in rows]
    return frame


# ============================================================================ threshold
def _feasible(result: Result, x: float) -> bool:
    status = str(getattr(result.status, "value", result.status))
    if status == "optimal":
        return True
    if status == "infeasible":
        return False
    raise MechoptError(
        f"threshold: the design at {x!r} ended {status!r} ({getattr(result, 'message', '') or 'no answer'}); "
        "bisection needs optimal or infeasible at every point: move lo/hi or change solver options"
    )


def threshold(build: Callable[[float], Design], lo: float, hi: float, tol: float = 1e-6, *,
              warm: bool = True, **options: Any) -> float:
    """The boundary between infeasible and feasible values of a scalar parameter, by bisection.

    Parameters
    ----------
    build : callable
        ``build(x) -> Design``.
    lo, hi : float
        A bracket: the design must be feasible at exactly one of the two ends.
    tol : float
        Width of the final bracket.
    warm : bool
        Keep one HiGHS instance across the bisection steps (hot starts when the
        matrix does not change with ``x``; every hot answer is re-checked).
    **options
        Passed to :meth:`Design.solve`.

    Returns
    -------
    float
        The end of the final bracket ``[a, b]`` (``b − a ≤ tol``) on the
        *feasible* side: the smallest feasible value when feasibility starts at
        the threshold, the largest when it ends there (within ``tol``).

    Raises
    ------
    SpecError
        ``lo >= hi``, ``tol <= 0``, or both ends feasible / both infeasible.
    """
    try:
        lo, hi, tol = float(lo), float(hi), float(tol)
    except (TypeError, ValueError):
        raise SpecError(f"threshold: lo, hi and tol must be numbers, got {lo!r}, {hi!r}, {tol!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise SpecError(f"threshold: need finite lo < hi, got lo={lo}, hi={hi}")
    if not (tol > 0):
        raise SpecError(f"threshold: tol must be > 0, got {tol}")
    if "executor" in options:
        raise SpecError("threshold: bisection solves one point after another, so it takes no executor; "
                        "drop executor= (to run several thresholds in parallel, call threshold inside "
                        "mo.converge(fn, sizes, executor=...) or mo.sweep)")
    state = WarmStart() if warm else None
    opts = _solve_options(options)

    def feasible(x: float) -> bool:
        design = build(x)
        from .design import Design

        if not isinstance(design, Design):
            raise SpecError(f"threshold: build({x!r}) returned {type(design).__name__}, not a Design")
        return _feasible(solve_point(design, state, **opts)[0], x)

    f_lo, f_hi = feasible(lo), feasible(hi)
    if f_lo == f_hi:
        word = "feasible" if f_lo else "infeasible"
        raise SpecError(
            f"threshold: the design is {word} at both ends lo={lo} and hi={hi}; give a bracket with feasibility "
            "at exactly one end"
        )
    a, b = lo, hi
    while b - a > tol:
        mid = 0.5 * (a + b)
        if feasible(mid) == f_lo:
            a = mid
        else:
            b = mid
    return a if f_lo else b


# ============================================================================ convergence
def _fit_order(h: np.ndarray, v: np.ndarray) -> float | None:
    """The order p of ``v ≈ v∞ + a h^p`` from the last three points, or None when they do not fit one."""
    from scipy.optimize import brentq

    h1, h2, h3 = h[-3:]
    v1, v2, v3 = v[-3:]
    if v2 == v3 or v1 == v2 or (v1 - v2) * (v2 - v3) <= 0:
        return None
    target = (v1 - v2) / (v2 - v3)

    def g(p: float) -> float:
        return (h1**p - h2**p) / (h2**p - h3**p) - target

    try:
        return float(brentq(g, 0.05, 8.0, xtol=1e-12))
    except ValueError:
        return None


def richardson(sizes: Sequence[float], values: Sequence[float], order: float = 1.0, terms: int | None = None
               ) -> np.ndarray:
    """Richardson extrapolations in h = 1/n.

    Fits ``v(h) = v∞ + a_0 h^p + a_1 h^(p+1) + … + a_(j−1) h^(p+j−1)`` exactly
    through ``j + 1`` consecutive points (any spacing of n).

    Parameters
    ----------
    sizes, values : sequences of length K
        Grid sizes n_k (increasing) and the discrete values v(1/n_k).
    order : float
        p, the order of the leading error term.
    terms : int, optional
        Largest j (default K − 1).

    Returns
    -------
    numpy.ndarray, shape (terms + 1, K)
        ``E[j, k]``: v∞ fitted with j terms on points ``k−j … k`` (NaN where
        ``k < j``); row 0 is the values themselves.
    """
    n = np.asarray(sizes, dtype=float)
    v = np.asarray(values, dtype=float)
    K = n.size
    terms = K - 1 if terms is None else min(int(terms), K - 1)
    h = 1.0 / n
    E = np.full((terms + 1, K), np.nan)
    E[0] = v
    for j in range(1, terms + 1):
        for k in range(j, K):
            hh = h[k - j: k + 1]
            M = np.column_stack([np.ones(j + 1)] + [hh ** (order + q) for q in range(j)])
            E[j, k] = np.linalg.solve(M, v[k - j: k + 1])[0]
    return E


@dataclass
class Convergence:
    """Discrete values on refining grids and their continuum extrapolation.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per n: ``n``, ``value`` (the objective, or fn(n)), ``rows``,
        ``cols``, ``nnz`` (LP size; NaN for a plain function), ``seconds``,
        ``status``, and the extrapolations ``R1``, ``R2``, … (Richardson with
        1, 2, … error terms ending at that n).
    estimate : float
        The last extrapolation with the most terms used.
    error : float
        Its spread: the largest distance from ``estimate`` to the other last
        extrapolations (one term fewer at the same n; the same number of terms
        ending at the previous n).  An error estimate, not a bound.
    order : float
        p, given or fitted (``order_fitted`` says which).
    """

    table: pd.DataFrame
    estimate: float
    error: float
    order: float
    order_fitted: bool
    terms: int
    extrapolations: np.ndarray = field(repr=False)

    def plot(self, ax=None, continuum: float | None = None, label: str = "value"):
        """Values and extrapolations against 1/n (the continuum is at 1/n = 0)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        h = 1.0 / self.table["n"].to_numpy(dtype=float)
        ax.plot(h, self.table["value"], "o-", label=label)
        for j in range(1, self.extrapolations.shape[0]):
            ax.plot(h, self.extrapolations[j], ".--", label=f"Richardson, {j} term{'s' if j > 1 else ''}")
        ax.errorbar([0.0], [self.estimate], yerr=[[self.error], [self.error]], fmt="s", color="black",
                    capsize=4, label=f"estimate {self.estimate:.6g} ± {self.error:.1g}")
        if continuum is not None:
            ax.axhline(continuum, color="crimson", ls=":", label=f"continuum {continuum:.6g}")
        ax.set_xlabel("1/n")
        ax.set_ylabel(label)
        ax.set_xlim(left=-0.02 * max(h.max(), 1e-9))
        ax.legend()
        return ax

    def __repr__(self) -> str:
        how = "fitted" if self.order_fitted else "given"
        return (f"Convergence: estimate {self.estimate:.8g} ± {self.error:.2g} "
                f"(order {self.order:.3g} {how}, {self.terms} term(s), n = {list(self.table['n'])})")


def _converge_point(fn: Callable[[int], Any], n: int, options: dict[str, Any]) -> dict[str, Any]:
    """One grid size: fn(n) is a Design (solved) or a number."""
    from .design import Design

    start = time.perf_counter()
    out = fn(n)
    row: dict[str, Any] = {"n": n}
    if isinstance(out, Design):
        result = out.solve(**options)
        sizes = result.lp.sizes
        status = str(getattr(result.status, "value", result.status))
        row.update(value=float(result.objective) if result.objective is not None else np.nan,
                   rows=sizes["rows"], cols=sizes["cols"], nnz=sizes["nnz"], status=status)
    else:
        try:
            value = float(out)
        except (TypeError, ValueError):
            raise SpecError(
                f"converge: fn({n}) returned {type(out).__name__}; return a Design or a number"
            ) from None
        row.update(value=value, rows=np.nan, cols=np.nan, nnz=np.nan, status="value")
    row["seconds"] = time.perf_counter() - start
    return row


def converge(build_or_fn: Callable[[int], Any], sizes: Sequence[int], *, executor: Any = None,
             order: float | None = None, terms: int | None = None, progress: Any = None,
             **options: Any) -> Convergence:
    """Solve on refining grids and extrapolate to the continuum (Richardson in h = 1/n).

    Parameters
    ----------
    build_or_fn : callable
        ``f(n)`` returning a :class:`~mechopt.Design` on an n-point discretization
        (solved; its objective is the value) or a number (e.g. a
        :func:`threshold` found on the n-point grid).
    sizes : sequence of int
        At least two increasing grid sizes, e.g. ``[11, 21, 41, 81]``.
    executor : see :func:`sweep`
    order : float, optional
        The order p of the leading error term ``a h^p``.  Default: fitted from the
        last three values (1 when there are only two, or when they do not fit
        one power, e.g. oscillate).
    terms : int, optional
        Error terms eliminated (default: ``len(sizes) − 2``, at least 1, so that
        the spread of the last extrapolations can be measured).
    **options
        Passed to :meth:`Design.solve`.

    Returns
    -------
    Convergence
    """
    try:
        ns = [int(n) for n in sizes]
    except (TypeError, ValueError):
        raise SpecError(f"converge: sizes must be integers, got {sizes!r}") from None
    if len(ns) < 2 or any(n < 2 for n in ns) or any(b <= a for a, b in zip(ns, ns[1:])):
        raise SpecError(f"converge: sizes must be at least two increasing integers >= 2, got {list(sizes)!r}")
    if executor is not None and not _is_dask(executor) and not isinstance(executor, ThreadPoolExecutor):
        _check_picklable(build_or_fn)
    rows = _execute_converge(build_or_fn, ns, executor, progress, dict(options))
    table = pd.DataFrame(rows)[["n", "value", "rows", "cols", "nnz", "seconds", "status"]]
    values = table["value"].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        bad = table.loc[~np.isfinite(values), ["n", "status"]].to_dict("records")
        raise SolverError(f"converge: no value at {bad}; every size must solve to an optimum")
    fitted = order is None
    if fitted:
        p = _fit_order(1.0 / np.asarray(ns, float), values) if len(ns) >= 3 else None
        order = 1.0 if p is None else p
    order = float(order)
    if not (order > 0):
        raise SpecError(f"converge: order must be > 0, got {order}")
    if terms is None:
        terms = max(1, len(ns) - 2)
    terms = max(1, min(int(terms), len(ns) - 1))
    E = richardson(ns, values, order=order, terms=terms)
    for j in range(1, terms + 1):
        table[f"R{j}"] = E[j]
    estimate = float(E[terms, -1])
    others = [E[terms - 1, -1]] if terms > 1 else [values[-1]]
    if len(ns) - 1 > terms:
        others.append(E[terms, -2])
    error = float(max(abs(estimate - o) for o in others))
    return Convergence(table, estimate, error, order, fitted, terms, E)


def _execute_converge(fn, ns, executor, progress, options):
    opts = _solve_options(options)
    update, close = _progress_bar(progress, len(ns), "converge")
    own = None
    try:
        if executor is None:
            rows = []
            for n in ns:
                rows.append(_converge_point(fn, n, opts))
                if update:
                    update(1)
            return rows
        if _is_dask(executor):
            futures = [executor.submit(_converge_point, fn, n, opts, pure=False) for n in ns]
            return executor.gather(futures)
        if isinstance(executor, bool) or not isinstance(executor, (int, Executor)):
            raise SpecError(
                f"converge: executor must be None, an int, an Executor or a dask Client, not {type(executor).__name__}"
            )
        if isinstance(executor, int):
            if executor < 1:
                raise SpecError(f"converge: executor={executor} processes; give a positive number (or None)")
            own = _process_pool(executor)
        pool = own or executor
        futures = [pool.submit(_converge_point, fn, n, opts) for n in ns]
        rows = []
        for f in futures:
            rows.append(f.result())
            if update:
                update(1)
        return rows
    finally:
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)
        if close:
            close()
