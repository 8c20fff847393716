"""Size limits: estimate an LP's rows, nonzeros and memory before building it.

:func:`estimate` mirrors the row families of :mod:`mechopt.compile` with
arithmetic on the environment's shape (no array of size S = Π T_i is ever
made), including the reductions the compiler would choose: adjacent IC rows
(scalar types, values affine in the type), interim payments, interim
variables for BIC with independent priors, and the Border reduction for a
single item.  :func:`check` refuses a design whose estimate exceeds a memory
limit with a :class:`~mechopt.errors.SizeError` naming the size and what
would fit.

Example
-------
>>> import mechopt as mo
>>> from mechopt.limits import estimate, check
>>> b = [mo.Agent(f"b{i}", mo.grid(0, 1, 60)) for i in range(4)]
>>> d = mo.Design(mo.single_item(b), ic="dsic", ir="ex_post")
>>> estimate(d)["rows"] > 10**8
True
>>> check(d, max_memory="4GB")
Traceback (most recent call last):
...
mechopt.errors.SizeError: the LP would have ...

Memory model (float LP): COO triplets while building, the CSR matrix, HiGHS's
copy and its factorization: about 220 bytes per nonzero; labels, bounds,
duals and basis: about 300 bytes per row and 200 per column; the recovered
mechanism and the verifier: 64 bytes per (profile, outcome or agent).  An
exact build (``certify=True``, ``exact=True``) keeps Fractions: about 400 more
bytes per nonzero.  Measured against the peak resident memory of a solve: two
bidders DSIC T = 121, estimate 118 MB, measured 157 MB; bilateral trade BIC
T = 201, estimate 72 MB, measured 166 MB (of which about 100 MB is the
verifier's fixed-size working arrays).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from .errors import MechoptError, SizeError, SpecError

__all__ = ["estimate", "check", "parse_memory", "DEFAULT_MAX_MEMORY"]

DEFAULT_MAX_MEMORY = 4 * 1024 ** 3  # 4 GiB
BYTES_PER_NNZ = 220
BYTES_PER_ROW = 300
BYTES_PER_COL = 200
BYTES_PER_PROFILE_ENTRY = 64  # mechanism arrays x (S, K), p (S, n) and the verifier's copies
EXACT_BYTES_PER_NNZ = 400
BORDER_RATIO = 2.0  # mirrors mechopt.compile.border.SIZE_RATIO
ITEM_TABLE = 5_000_000  # mirrors mechopt.compile.item_border.MAX_TABLE (beyond: an item rule, no table)

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "mib": 1024 ** 2,
          "g": 1024 ** 3, "gb": 1024 ** 3, "gib": 1024 ** 3, "t": 1024 ** 4, "tb": 1024 ** 4, "tib": 1024 ** 4}


def parse_memory(value: Any) -> int:
    """Bytes from ``"4GB"``, ``"500MB"``, ``"1.5 GiB"`` or an integer number of bytes.

    Units are binary (1 GB = 1024³ bytes).  Raises :class:`~mechopt.errors.SpecError`
    for anything else.
    """
    if isinstance(value, bool):
        raise SpecError(f"max_memory={value!r} is not a size; give bytes or a string like '4GB'")
    if isinstance(value, (int, np.integer)):
        if value <= 0:
            raise SpecError(f"max_memory={value!r} must be positive; give bytes or a string like '4GB'")
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and value > 0:
        return int(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", value)
        if m and m.group(2).lower() in _UNITS and float(m.group(1)) > 0:
            return int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    raise SpecError(f"max_memory={value!r} is not a size; use bytes or a string like '4GB' or '500MB'")


def _fmt_bytes(n: float) -> str:
    for unit, size in (("TB", 1024 ** 4), ("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def _groups(V: np.ndarray) -> tuple[int, int]:
    """(number of value groups G, number of valued outcomes Z) of a value table (T, K)."""
    nz = np.flatnonzero(np.any(V != 0, axis=0))
    if nz.size == 0:
        return 0, 0
    cols = np.ascontiguousarray(V[:, nz].T)
    return len({col.tobytes() for col in cols}), int(nz.size)


GENERATION_THRESHOLD = 20_000  # mirrors mechopt.solve: full IC rows above which IC rows are generated
GENERATION_HEADROOM = 1  # generated pairs vs the first round's nearest-neighbour pairs (measured 1,832 vs 1,764)


def _plan(design, reductions: bool, border: bool | None, ic_generation: bool | None = None,
          backend: str = "highs", certify: bool = False, exact: bool = False) -> dict[str, Any]:
    """The reductions the compiler will use (:func:`mechopt.compile.plan.make_plan`, which
    builds nothing), plus the table statistics :func:`_count` needs."""
    from .compile.plan import make_plan

    env = design.env
    indep = env.is_independent
    ic = "dsic" if design.ic == "ex_post" else design.ic
    K = env.n_outcomes
    tables = [np.asarray(V, dtype=float).reshape(-1, K) for V in (env.values if env.is_private
                                                                   else env.profile_values)]
    GZ = [_groups(V) for V in tables]
    off = ("item_border",) if certify or exact or backend != "highs" else ()  # as mechopt.pipeline.solve decides
    try:
        plan = make_plan(design, reductions=reductions, border=border, disabled=off)
    except MechoptError:  # border=True where it does not apply: compile raises the same error
        plan = make_plan(design, reductions=reductions, border=False, disabled=off)
    interim_payments = plan.payments == "interim"
    adjacent = [mode == "adjacent" for mode in plan.ic] if plan.ic else [False] * env.n_agents
    use_border = plan.border
    # IC row generation (mechopt.pipeline): agents without the adjacent reduction, highs backend
    lazy = [i for i, adj in enumerate(adjacent) if not adj] if ic != "none" else []
    full = sum(a.n_types * (a.n_types - 1) * (env.n_profiles // a.n_types if ic == "dsic" else 1)
               for i, a in enumerate(env.agents) if i in lazy)
    if ic_generation is None:
        ic_generation = bool(lazy) and backend == "highs" and not certify and full > GENERATION_THRESHOLD
    generated = {}
    if ic_generation:
        for i in lazy:
            a = env.agents[i]
            d = 1 if a.is_scalar else a.types.shape[1]
            # each type and its 2·d nearest types; the pairs are symmetric, so about T·2d distinct ones
            generated[i] = GENERATION_HEADROOM * a.n_types * min(a.n_types - 1, 2 * d)
    return {
        "generated": generated,
        "ic": ic, "indep": indep, "G": [1] * env.n_agents if use_border else [g for g, _ in GZ],
        "Z": [z for _, z in GZ], "interim_payments": interim_payments,
        "need_interim": env.is_private and indep and (ic == "bic" or design.ir in ("interim", "ex_ante")),
        "adjacent": adjacent, "border": use_border, "costly": int(np.count_nonzero(env.cost)),
        "table_free": [name for name in ("symmetry", "counts", "item_symmetry") if plan.uses(name)],
        "envelope": plan.uses("envelope"), "plan": plan,
    }


def _count(design, plan: dict, shape: tuple[int, ...], exact: bool) -> dict[str, Any]:
    """Rows per family, columns, nonzeros and bytes for a grid of the given shape."""
    n, K = len(shape), int(design.env.n_outcomes)
    S = math.prod(shape)
    R = [S // T for T in shape]
    if plan.get("envelope"):
        # monotone lotteries + envelope payments (compile/envelope.py): S·K columns, S lottery
        # rows and Σ_i (T_i − 1) S / T_i monotonicity rows of two nonzeros
        mono = sum((T - 1) * S // T for T in shape)
        fam_rows = {"lottery": S, "monotone": mono}
        nnz, cols = S * K + 2 * mono, S * K
        return _total(fam_rows, nnz, cols, S, K, n, exact)
    ic, G, Z = plan["ic"], plan["G"], plan["Z"]
    interim_payments, need_interim = plan["interim_payments"], plan["need_interim"]
    pairs = [2 * (T - 1) if adj else T * (T - 1) for T, adj in zip(shape, plan["adjacent"])]
    for i, k in plan["generated"].items():
        pairs[i] = min(pairs[i], k * shape[i] // max(1, design.env.shape[i]))
    fam_rows: dict[str, int] = {}
    nnz = 0
    if plan["border"]:
        cols = 3 * sum(shape)  # Q_i, P̄_i, C_i
        fam_rows["cumulative"] = sum(shape)
        nnz += 3 * sum(shape)
        M = math.prod(T + 1 for T in shape) - 1
        fam_rows["border"] = M
        nnz += sum(M * T // (T + 1) for T in shape)
    else:
        cols = S * K
        if not interim_payments:
            cols += S * n
        for i in range(n):
            if need_interim:
                cols += shape[i] * G[i]
            if need_interim or interim_payments:
                cols += shape[i]
        fam_rows["lottery"] = S
        nnz += S * K
        if design.allocation == "efficient":
            fam_rows["efficiency"] = S
            nnz += S * (K - 1)
        if need_interim:
            fam_rows["interim"] = sum(shape[i] * G[i] + (0 if interim_payments else shape[i]) for i in range(n))
            nnz += sum(shape[i] * G[i] + S * Z[i] + (0 if interim_payments else shape[i] + S) for i in range(n))
    if ic != "none":
        rows = 0
        for i in range(n):
            if ic == "dsic":
                rows += pairs[i] * R[i]
                nnz += pairs[i] * R[i] * (2 * Z[i] + 2)
            elif plan["indep"]:
                rows += pairs[i]
                nnz += pairs[i] * (2 * G[i] + 2)
            else:
                rows += pairs[i]
                nnz += pairs[i] * R[i] * (2 * Z[i] + 2)
        fam_rows["ic"] = rows
    if design.ir != "none":
        rows = 0
        for i in range(n):
            if design.ir == "ex_post":
                rows += S
                nnz += S * (Z[i] + 1)
            else:
                rows += shape[i] if design.ir == "interim" else 1
                nnz += shape[i] * (G[i] + 1) if need_interim else S * (Z[i] + 1)
        fam_rows["ir"] = rows
    if design.budget != "none":
        costly = plan["costly"]
        if design.budget in ("exact", "ex_post") and not interim_payments:
            fam_rows["budget"] = S
            nnz += S * (n + costly)
        else:
            fam_rows["budget"] = 1
            nnz += (sum(shape) + S * costly) if interim_payments else S * (n + costly)
    return _total(fam_rows, nnz, cols, S, K, n, exact)


def _total(fam_rows: dict, nnz: int, cols: int, S: int, K: int, n: int, exact: bool,
           tables: bool = True) -> dict[str, Any]:
    n_rows = sum(fam_rows.values())
    per_nnz = BYTES_PER_NNZ + (EXACT_BYTES_PER_NNZ if exact else 0)
    mem = nnz * per_nnz + n_rows * BYTES_PER_ROW + cols * BYTES_PER_COL
    if tables:  # mechanism arrays x (S, K), p (S, n) and the verifier's copies
        mem += S * (K + n) * BYTES_PER_PROFILE_ENTRY
    return {"rows": int(n_rows), "cols": int(cols), "nnz": int(nnz), "bytes": int(mem), "families": fam_rows}


def estimate(design, reductions: bool = True, border: bool | None = None, exact: bool = False,
             certify: bool = False, ic_generation: bool | None = None, backend: str = "highs",
             **_: Any) -> dict[str, Any]:
    """Rows, columns, nonzeros and bytes of a design's LP, without building it.

    Parameters
    ----------
    design : Design
    reductions, border : as in :func:`mechopt.compile.compile_design`
    exact, certify : bool
        Count the memory of an exact (Fraction) build too.
    ic_generation, backend :
        As in ``Design.solve``: with IC row generation (automatic on the highs
        backend when an agent has no adjacent reduction and the full IC family
        exceeds 20,000 rows) the IC rows of those agents are estimated from the
        first round's nearest-neighbour pairs (``reductions["ic_generation"]``);
        later rounds add few (two items on grid(0, 1, 21): 1,832 pairs generated,
        1,764 estimated).
    **_
        Other solve options are ignored.

    Returns
    -------
    dict
        ``rows``, ``cols``, ``nnz``, ``bytes`` (ints), ``families`` (rows per
        family) and ``reductions`` (``adjacent`` per agent, ``payments``,
        ``border``).  Rows and columns match ``design.compile().sizes`` for the
        full LP; efficiency rows and nonzeros are upper bounds (ties and zero
        values make the compiled LP smaller).  IC row generation
        (``ic_generation=True``) builds fewer rows than estimated.
    """
    plan = _plan(design, reductions, border, ic_generation, backend, certify, exact)
    if plan["plan"].item_border:
        # per-item reduced forms (mechopt.compile.item_border): the first round's LP is built
        # (O(Σ T_i) rows); later rounds add generated rows; the recovered table is S·K
        from .compile import compile_design

        lp = compile_design(design, plan=plan["plan"])
        sz = lp.sizes
        env = design.env
        rule = len(lp.plan.item_structure.reps) == 1 and env.n_profiles * env.n_outcomes > ITEM_TABLE
        out = _total(dict(sz["families"]), sz["nnz"], sz["cols"], env.n_profiles, env.n_outcomes, env.n_agents,
                     exact or certify, tables=not rule)  # identical agents beyond the table: an item rule
        out["reductions"] = {"adjacent": dict(zip(env.names, plan["adjacent"])), "payments": "interim",
                             "border": False, "ic_generation": [], "item_border": True}
        return out
    if plan["table_free"]:
        # symmetric / anonymous / item-orbit formulations have O(T) or O(orbits) rows whatever
        # the number of profiles (mechopt.compile.symmetry, counts, items): build and count them
        from .compile import compile_design

        lp = compile_design(design, plan=plan["plan"])
        sz = lp.sizes
        out = _total(dict(sz["families"]), sz["nnz"], sz["cols"], design.env.n_profiles, design.env.n_outcomes,
                     design.env.n_agents, exact or certify, tables=False)
        out["reductions"] = {"adjacent": dict(zip(design.env.names, plan["adjacent"])),
                             "payments": "interim" if plan["interim_payments"] else "ex_post",
                             "border": plan["border"], "ic_generation": [], "table_free": plan["table_free"]}
        return out
    out = _count(design, plan, tuple(int(T) for T in design.env.shape), exact or certify)
    out["reductions"] = {"adjacent": dict(zip(design.env.names, plan["adjacent"])),
                         "payments": "interim" if plan["interim_payments"] else "ex_post", "border": plan["border"],
                         "ic_generation": [design.env.names[i] for i in plan["generated"]]}
    return out


def _largest_grid(design, limit: int, options: dict) -> int | None:
    """Largest T such that capping every agent's grid at T points fits ``limit`` (None if even 2 does not)."""
    plan = _plan(design, options.get("reductions", True), options.get("border"), options.get("ic_generation"),
                 options.get("backend", "highs"), bool(options.get("certify")), bool(options.get("exact")))
    exact = bool(options.get("exact") or options.get("certify"))
    shape = design.env.shape

    def fits(T: int) -> bool:
        return _count(design, plan, tuple(min(t, T) for t in shape), exact)["bytes"] <= limit

    lo, hi = 2, max(shape)
    if not fits(lo):
        return None
    while lo < hi:  # largest T with fits(T)
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def _advice(design, limit: int, options: dict) -> str:
    """What would fit: fewer types (how many), BIC instead of DSIC, ex post → interim, fewer agents."""
    env = design.env
    tips = []
    n = env.n_agents
    T = _largest_grid(design, limit, options)
    if T is not None and T < max(env.shape):
        tips.append(f"fewer types (at most {T} per agent instead of {max(env.shape)})")
    alt = []
    if design.ic in ("dsic", "ex_post") and env.is_independent:
        alt.append(("ic", "bic"))
    if design.ir == "ex_post" and env.is_independent:
        alt.append(("ir", "interim"))
    if design.budget in ("exact", "ex_post") and env.is_independent:
        alt.append(("budget", "ex_ante"))
    if alt:
        relaxed = design.replace(**dict(alt))
        e2 = estimate(relaxed, **options)
        what = ", ".join(f'{k}="{v}"' for k, v in alt)
        verdict = "fits" if e2["bytes"] <= limit else f"still {_fmt_bytes(e2['bytes'])}"
        tips.append(f"{what} instead of {', '.join(f'{k}={getattr(design, k)!r}' for k, _ in alt)} "
                    f"({e2['rows']:,} rows, {verdict})")
    if n > 2:
        tips.append(f"fewer agents ({n} agents give {math.prod(env.shape):,} type profiles)")
    tips.append("or raise max_memory")
    return "; ".join(tips)


def check(design, max_memory: Any = DEFAULT_MAX_MEMORY, **options: Any) -> dict[str, Any]:
    """Refuse a design whose LP would not fit in ``max_memory``.

    Parameters
    ----------
    design : Design
    max_memory : int or str
        Bytes, or ``"4GB"``/``"500MB"`` (binary units); ``None`` disables the check.
    **options
        Solve options that change the LP (``reductions``, ``border``, ``exact``, ``certify``).

    Returns
    -------
    dict
        The estimate (see :func:`estimate`) when it fits.

    Raises
    ------
    SizeError
        With the estimated rows, nonzeros and memory and what would fit.
    """
    est = estimate(design, **options)
    if max_memory is None:
        return est
    limit = parse_memory(max_memory)
    if est["bytes"] > limit:
        advice = _advice(design, limit, options).strip()
        advice = advice.removeprefix("or ").strip()
        raise SizeError(
            f"the LP would have {est['rows']:,} rows, {est['cols']:,} columns and {est['nnz']:,} nonzeros "
            f"(about {_fmt_bytes(est['bytes'])}, over max_memory={_fmt_bytes(limit)}); to fit, "
            + (f"try {advice}" if not advice.startswith("raise") else advice)
        )
    return est
