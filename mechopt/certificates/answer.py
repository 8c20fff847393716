"""``Design.solve(exact=True)``: answers in rational arithmetic.

:func:`exact_result` turns a float :class:`~mechopt.result.Result` into one
whose answer is exact: floating point (HiGHS) proposes a basis, the exact
simplex repair of :mod:`.repair` corrects it in rational arithmetic, and the
answer is returned only with an exact certificate that passed its check:

* ``optimal`` — an exactly optimal mechanism (Fractions) and an exact
  optimality certificate (primal + dual with equal objectives);
* ``infeasible`` — an exact Farkas certificate, *even when the float solver
  said "optimal"* (a violation below its tolerances);
* ``unbounded`` — an exact feasible point and improving ray.

The exact numbers are in ``result.exact`` (an :class:`ExactAnswer`).

Examples
--------
>>> from fractions import Fraction
>>> import mechopt as mo
>>> b = mo.Agent("buyer", [Fraction("0.999999999"), Fraction(3, 2), 2])
>>> s = mo.Agent("seller", [0, Fraction(1, 2), 1])
>>> d = mo.Design(mo.bilateral_trade(b, s), ic="dsic", ir="ex_post", budget="exact",
...               allocation="efficient")
>>> d.solve().status, d.solve(exact=True).status   # HiGHS misses a 1e-9 gap
('optimal', 'infeasible')
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SpecError
from .build import farkas_lottery, unbounded_pair
from .certificate import Certificate
from .linalg import dot, reconstruct
from .model import ExactModel
from .repair import highs_basis, repair

if TYPE_CHECKING:  # pragma: no cover
    from ..result import Result

__all__ = ["ExactAnswer", "exact_result"]


@dataclass
class ExactAnswer:
    """The exact answer attached to ``result.exact`` by ``solve(exact=True)``.

    Attributes
    ----------
    status : {"optimal", "infeasible", "unbounded", "failed"}
        Decided in rational arithmetic (``failed``: no exact proof was found
        within the repair's limits; the result's status is then ``unverified``).
    objective : Fraction or None
        Optimal value (offset included), exactly.
    x : object ndarray (S, K) or None
        Exact allocation: ``x[s, k]`` probability of outcome k at profile s.  None under
        the type-count formulation when the profile table does not fit (``rule`` then
        holds the exact mechanism).
    p : object ndarray (S, n) or None
        Exact payments ``p[s, i]`` paid by agent i at profile s (None as ``x``).
    z : object ndarray (N,) or None
        Exact LP point (optimal, unbounded).
    certificate : Certificate or None
        Verified exact certificate of the status.
    float_status : str
        What the floating-point solver reported.
    method : str
        How the answer was obtained (pivots made by the exact repair, …).
    seconds : float
        Time spent on the exact stage.
    rule : CountRule or None
        Type-count formulation (:mod:`mechopt.compile.counts`): the exact anonymous rule,
        lotteries ``x(m, k)`` per count vector and interim payments ``P(t)`` as Fractions.
    """

    status: str
    objective: Fraction | None
    x: np.ndarray | None
    p: np.ndarray | None
    z: np.ndarray | None
    certificate: Certificate | None
    float_status: str
    method: str
    seconds: float
    rule: Any = None


def _floats(v: np.ndarray | None) -> np.ndarray | None:
    return None if v is None else np.array([float(a) for a in v], dtype=float)


def _mechanism(lp, z: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    lay = lp.layout
    x = z[lay.x0: lay.x0 + lay.S * lay.K].reshape(lay.S, lay.K) if lay.ex_post_x else None
    p = np.empty((lay.S, lay.n), dtype=object)
    for i in range(lay.n):
        p[:, i] = z[lay.pcol(np.arange(lay.S), i)]
    return x, p


def _count_rule(lp, z: np.ndarray):
    """The exact anonymous rule of a type-count LP point: ``x(m, k)`` and ``P(t)`` as Fractions."""
    from ..compile.counts import count_vectors
    from ..rules import CountRule

    lay = lp.layout
    T = lay.shape[0]
    cnt = getattr(lp, "count_vectors", None)
    cnt = count_vectors(lay.n, T) if cnt is None else cnt
    prior = np.asarray(lp.design.env.agents[0].prior_exact, dtype=object)
    return CountRule(lay.n, prior, cnt, z[: lay.M * lay.K].reshape(lay.M, lay.K), z[lay.P0[0]: lay.P0[0] + T])


def _count_tables(rule) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Exact profile tables ``x`` (S, K), ``p`` (S, n) of an anonymous rule; None when the float
    mechanism is not tabulated either (``rule.fits_table``)."""
    if not rule.fits_table:
        return None, None
    return rule.tabulate()


def _rounded_ray(model: ExactModel, ray: np.ndarray | None) -> np.ndarray | None:
    """The float dual ray rounded to rationals, if it passes the exact Farkas check."""
    if ray is None or not np.all(np.isfinite(ray)) or np.abs(ray).max() == 0:
        return None
    yf = ray / np.abs(ray).max()
    guess = reconstruct(np.where(np.abs(yf) > 1e-9, yf, 0.0).astype(object), max_den=10**12)
    return guess if guess is not None and model.check_farkas(guess).ok else None


def exact_result(result: Result, rebuild: Callable[[Any, Any], Result], max_pivots: int = 5000,
                 time_limit: float | None = None) -> Result:
    """A copy of ``result`` whose status and numbers are exact, with a verified certificate.

    Parameters
    ----------
    result : Result
        A float result of a (non-deterministic) design, solved on the full LP
        (no IC row generation; the exact twin is rebuilt when ``lp.exact`` is
        missing).
    rebuild : callable
        ``rebuild(lp, output) -> Result``: the pipeline's recover-and-verify stage,
        applied to the exact answer's floats (passed in, so that certificates do not
        import the pipeline).
    max_pivots, time_limit
        Limits of the exact simplex repair (:func:`mechopt.certificates.repair.repair`).

    Returns
    -------
    Result
        ``status`` decided exactly; ``result.exact`` an :class:`ExactAnswer`;
        ``result.certificate`` the verified exact certificate; ``objective``,
        ``mechanism`` and ``duals`` are the floats of the exact answer.  When no
        exact proof is found the status is ``unverified`` and ``message`` says why.

    Raises
    ------
    SpecError
        For deterministic designs (MIPs: LP duality certifies nothing there).
    """
    start = time.perf_counter()
    lp = result.lp
    if lp.integer.any():
        raise SpecError("exact=True solves linear programs; a deterministic design is a MIP — "
                        "drop deterministic=True or exact=True")
    float_status = str(getattr(result.status, "value", result.status))
    try:
        model = ExactModel(lp)
    except RuntimeError as exc:
        result.exact = ExactAnswer("failed", None, None, None, None, None, float_status, str(exc),
                                   time.perf_counter() - start)
        result.status, result.message = "unverified", f"exact=True: {exc}"
        return result
    out = result.output
    stats = dict(out.stats)
    cert = None
    if float_status == "infeasible":
        y, how = _rounded_ray(model, out.dual_ray), "HiGHS dual ray, rounded to rationals"
        if y is None:  # no usable ray (interior point gives none): the lottery-eliminated Farkas LP, if it applies
            y, how = farkas_lottery(model)
        if y is not None:
            cert = Certificate("infeasibility", model, y=y, method=how)
    elif float_status == "unbounded":
        z, d, info = unbounded_pair(model, out.primal_ray, lp)
        if z is not None and d is not None:
            cert = Certificate("unboundedness", model, z=z, direction=d,
                               method=f"{info.get('ray')}; {info.get('point')}")
    outcome = None
    if cert is None:
        basis = out.basis if out.basis is not None and getattr(out.basis, "valid", True) else highs_basis(lp)
        outcome = repair(model, basis, max_pivots=max_pivots, time_limit=time_limit)
        stats["exact_pivots"] = outcome.total_pivots
        if outcome.status == "optimal":
            cert = Certificate("optimality", model, y=outcome.lam, z=outcome.z, method=outcome.message)
        elif outcome.status == "infeasible":
            cert = Certificate("infeasibility", model, y=outcome.farkas, method=outcome.message)
        elif outcome.status == "unbounded":
            cert = Certificate("unboundedness", model, z=outcome.z, direction=outcome.ray, method=outcome.message)
    seconds = time.perf_counter() - start
    stats["exact_seconds"] = seconds
    if cert is None or not cert.verify(exact=True):
        why = outcome.message if outcome is not None else "no exact certificate"
        result.exact = ExactAnswer("failed", None, None, None, None, cert, float_status, why, seconds)
        result.status, result.message = "unverified", f"exact=True found no exact proof: {why}"
        return result
    kind = {"optimality": "optimal", "infeasibility": "infeasible", "unboundedness": "unbounded"}[cert.kind]
    z = cert._z
    if kind == "optimal":
        new_out = replace(out, status="optimal", z=_floats(z), objective=float(cert.objective),
                          row_dual=_floats(cert._y), col_dual=None, dual_ray=None, primal_ray=None, stats=stats)
    elif kind == "infeasible":
        new_out = replace(out, status="infeasible", z=None, objective=None, row_dual=None, col_dual=None,
                          dual_ray=_floats(cert._y), primal_ray=None, stats=stats)
    else:
        new_out = replace(out, status="unbounded", z=None, objective=None, row_dual=None, col_dual=None,
                          dual_ray=None, primal_ray=_floats(cert._d), stats=stats)
    new = rebuild(lp, new_out)
    new.certify = True
    new._certificate = cert
    x = p = rule = None
    objective = None
    if kind == "optimal":
        rule = _count_rule(lp, z) if lp.plan.counts else None
        x, p = _mechanism(lp, z) if rule is None else _count_tables(rule)
        objective = dot(model.c, z) + model.offset
    new.exact = ExactAnswer(kind, objective, x, p, z if kind != "infeasible" else None, cert, float_status,
                            cert.method, seconds, rule)
    if kind != float_status:
        new.message = f"exact arithmetic: {kind} (the float solver said {float_status})"
    elif rule is not None and x is None:
        new.message = (f"exact optimum on type counts: the {rule.n_profiles:.3g}-profile table is too large for "
                       "result.exact.x / .p; result.exact.rule is the exact anonymous rule (x per count vector, "
                       "interim payments P(t))")
    return new
