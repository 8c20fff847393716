"""Certify: exact proofs of impossibility, optimality and unboundedness.

``Result.certificate`` calls one of

* :func:`farkas` (infeasible designs) — a nonnegative combination of named
  rows that reads ``0 ≥ positive``;
* :func:`optimality` (``solve(certify=True)`` on optima) — an exact primal
  mechanism and exact dual weights with equal objectives;
* :func:`unbounded` (unbounded designs) — an exact feasible mechanism and an
  exact improving direction;

each returning a :class:`Certificate` whose :meth:`~Certificate.verify` checks
it in exact rational arithmetic on the exact model data (the LP compiled from
Fractions).  Floating point (HiGHS) only proposes numbers; see
:mod:`mechopt.certificates.build` for how they are made exact,
:mod:`mechopt.certificates.repair` for the exact simplex repair of a float
basis, :mod:`mechopt.certificates.answer` for ``solve(exact=True)``
(:func:`exact_result`) and :mod:`mechopt.certificates.model` for precisely
what is checked.

Examples
--------
>>> import mechopt as mo
>>> b, s = mo.Agent("buyer", mo.grid(0, 1, 6)), mo.Agent("seller", mo.grid(0, 1, 6))
>>> r = mo.Design(mo.bilateral_trade(b, s), ic="bic", ir="interim", budget="ex_ante",
...               allocation="efficient").solve()
>>> c = r.certificate
>>> c.kind, c.verify()
('infeasibility', True)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .answer import ExactAnswer, exact_result
from .build import farkas_weights, optimal_pair, unbounded_pair
from .certificate import Certificate
from .model import Check, ExactModel

if TYPE_CHECKING:  # pragma: no cover
    from ..result import Result

__all__ = [
    "Certificate", "Check", "ExactModel", "ExactAnswer", "farkas", "optimality", "unbounded", "certify",
    "exact_result",
]


def _model(result: Result) -> tuple[ExactModel | None, list[str]]:
    try:
        return ExactModel(result.lp), []
    except RuntimeError as exc:  # the exact twin cannot be rebuilt (e.g. an LP edited after compiling)
        return None, [str(exc)]


def farkas(result: Result) -> Certificate:
    """Exact Farkas certificate of an infeasible result.

    Starts from HiGHS's dual ray; falls back to an LP on the ray's support and
    then on all rows (see :mod:`mechopt.certificates.build`).  For a
    deterministic design (a MIP) the certificate is built for the LP relaxation,
    which exists only when the relaxation is itself infeasible.
    """
    start = time.perf_counter()
    model, notes = _model(result)
    if model is None:
        return Certificate("infeasibility", None, exact=False, method="none", notes=notes)
    y, info = farkas_weights(model, result.output.dual_ray, basis=result.output.basis)
    notes = list(info.get("attempts", []))
    if result.lp.integer.any():
        notes.append(
            "deterministic design: certificate for the LP relaxation (0 ≤ x ≤ 1), hence for the design"
            if y is not None
            else "integer infeasibility: the LP relaxation is feasible, so no Farkas certificate exists"
        )
    return Certificate(
        "infeasibility", model, y=y, exact=y is not None, method=info.get("method", "none found"),
        notes=notes, build_seconds=time.perf_counter() - start,
    )


def optimality(result: Result) -> Certificate:
    """Exact optimality certificate (primal + dual from HiGHS's optimal basis)."""
    start = time.perf_counter()
    model, notes = _model(result)
    if model is None:
        return Certificate("optimality", None, exact=False, method="none", notes=notes)
    if result.lp.integer.any():
        return Certificate(
            "optimality", model, exact=False, method="none",
            notes=["deterministic design (MIP): LP duality does not certify an integer optimum"],
            build_seconds=time.perf_counter() - start,
        )
    z, lam, info = optimal_pair(model, result.output.basis, result.lp)
    mismatch = _solved_elsewhere(result, model, z)
    if mismatch:
        return Certificate("optimality", model, exact=False, method="none", notes=[mismatch],
                           build_seconds=time.perf_counter() - start)
    return Certificate(
        "optimality", model, y=lam, z=z, exact=z is not None and lam is not None,
        method=info.get("method", ""), notes=info.get("attempts", []), build_seconds=time.perf_counter() - start,
    )


def _solved_elsewhere(result: Result, model: ExactModel, z) -> str:
    """Why the compiled LP is not what was solved (cvxpy user constraints/objectives), or ''.

    The cvxpy backend can add constraints and objectives that the compiled LP
    does not hold; a certificate of the compiled LP would then certify another
    problem.  Detected by comparing the exact optimum with the solver's value.
    """
    if result.output.stats.get("name") != "cvxpy" or z is None or result.objective is None:
        return ""
    from .linalg import dot

    exact = float(dot(model.c, z) + model.offset)
    if abs(exact - result.objective) <= 1e-6 * max(1.0, abs(result.objective)):
        return ""
    return (f"not certified: the compiled LP's optimum {exact:.10g} differs from the solved problem's "
            f"{result.objective:.10g} — user constraints or objectives (cvxpy backend) are not part of "
            "the compiled LP; certify the design without them, or solve with backend='highs'")


def unbounded(result: Result) -> Certificate:
    """Exact unboundedness certificate: a feasible point and an improving ray."""
    start = time.perf_counter()
    model, notes = _model(result)
    if model is None:
        return Certificate("unboundedness", None, exact=False, method="none", notes=notes)
    z, d, info = unbounded_pair(model, result.output.primal_ray, result.lp)
    notes = [f"ray: {info.get('ray')}", f"point: {info.get('point')}"]
    return Certificate(
        "unboundedness", model, z=z, direction=d, exact=d is not None and z is not None,
        method=f"{info.get('ray')}; {info.get('point')}", notes=notes, build_seconds=time.perf_counter() - start,
    )


def certify(result: Result) -> Certificate | None:
    """The certificate that fits the result's status (None if there is none to give)."""
    if result.status == "infeasible":
        return farkas(result)
    if result.status == "unbounded":
        return unbounded(result)
    if result.status == "optimal":
        return optimality(result)
    return None
