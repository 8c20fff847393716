"""The pipeline: compile → solve (backend) → recover → verify (→ certify on demand)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .compile import compile_design, plan
from .compile.generation import full_ic_rows, ic_gains, initial_pairs
from .errors import SolverError
from .result import Result, build_result

if TYPE_CHECKING:  # pragma: no cover
    from .design import Design

BACKENDS = ("highs", "cvxpy")
GENERATION_THRESHOLD = 20_000  # full IC rows above which IC rows are generated lazily
MAX_ROUNDS = 200


def solve(
    design: Design, backend: str = "highs", certify: bool = False, ic_generation: bool | None = None,
    border: bool | None = None, exact: bool = False, **options: Any,
) -> Result:
    """Solve a design with a backend; see :meth:`mechopt.Design.solve`.

    ``ic_generation``: generate IC rows lazily (see :mod:`mechopt.compile.generation`)
    for agents without the adjacent reduction. Default: when the full IC family
    would exceed 20,000 rows, with the highs backend and without ``certify``
    (an exact optimality certificate is checked on the full LP).

    ``border``: the Border reduction for single-item BIC (see
    :mod:`mechopt.compile.border`): ``None`` automatic, ``True`` required,
    ``False`` off.  The cvxpy backend always uses the ex post formulation (its
    ``x`` variables are what user constraints refer to).
    """
    if exact:  # the exact model is the full LP; Border's recovery is a float LP
        if backend != "highs":
            raise SolverError("exact=True needs backend='highs' (it repairs HiGHS's basis exactly)")
        ic_generation, border = False, False
    if backend == "highs":
        from .backends import highs as mod

        lazy = _lazy_agents(design)
        if ic_generation is None:
            ic_generation = bool(lazy) and not certify and full_ic_rows(design, lazy) > GENERATION_THRESHOLD
        if ic_generation and lazy:
            lp, out = _solve_generating(design, lazy, mod, options)
        else:
            lp = compile_design(design, exact=exact, border=border)
            out = mod.solve(lp, **options)
    elif backend == "cvxpy":
        from .backends import cvxpy as mod

        custom = options.get("constraints") is not None or options.get("objective") is not None
        lp = compile_design(design, exact=False, reductions=not custom, border=False)
        out = mod.solve(lp, **options)
    else:
        raise SolverError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    result = build_result(design, lp, out, certify or exact)
    if exact:
        from .certificates import exact_result

        return exact_result(result)
    return result


def _lazy_agents(design: Design) -> list[int]:
    if design.ic == "none":
        return []
    _, info = plan(design)
    return [i for i, a in enumerate(design.env.agents) if info["ic"][a.name] == "all pairs"]


def _solve_generating(design: Design, lazy: list[int], mod, options: dict):
    env = design.env
    scale = max(1.0, max(float(np.abs(V).max()) for V in env.values))
    tol = 1e-9 * scale
    pairs = {i: initial_pairs(env.agents[i].types) for i in lazy}
    build = solve_s = 0.0
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        start = time.perf_counter()
        lp = compile_design(design, ic_pairs=pairs)
        build += time.perf_counter() - start
        out = mod.solve(lp, **options)
        solve_s += out.stats.get("seconds", 0.0)
        if out.status != "optimal":
            break
        x, p = lp.mechanism_arrays(out.z)
        added = False
        for i in lazy:
            T = env.shape[i]
            gain = ic_gains(design, x, p, i)
            t, s = pairs[i]
            gain[t, s] = -np.inf
            np.fill_diagonal(gain, -np.inf)
            nt, ns = np.nonzero(gain > tol)
            if nt.size:
                code = np.unique(np.concatenate([t * T + s, nt * T + ns]))
                pairs[i] = (code // T, code % T)
                added = True
        if not added:
            break
    if out.status == "unbounded" or (out.status == "optimal" and added):
        start = time.perf_counter()
        lp = compile_design(design)
        build += time.perf_counter() - start
        out = mod.solve(lp, **options)
        solve_s += out.stats.get("seconds", 0.0)
    lp.build_seconds = build
    out.stats.update(seconds=solve_s, ic_rounds=rounds)
    return lp, out
