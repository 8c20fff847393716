"""Constructing exact certificates from HiGHS's floating-point answers.

Every construction ends with the exact checks of :mod:`.model`; floating point
only proposes.

Infeasibility (:func:`farkas_weights`), in order of cost:

1. the dual ray HiGHS returned, scaled and rounded to nearby rationals with a
   shared denominator — accepted if it passes the exact Farkas check;
2. the **support LP**: on the rows the float ray uses (``|y_r| > tol``), find y
   with ``Aᵀy`` compatible with the bounds and normalized right-hand side 1,
   by HiGHS; its optimal *basis* is re-solved exactly (:mod:`.linalg`);
3. the **lottery-eliminated Farkas LP**: when most lotteries allow one outcome
   (efficiency as column bounds, as in the type-count LP), their rows' weights
   are linear in the others' and only those unknowns remain
   (:func:`farkas_lottery`; 8 citizens × 11 types: 43 unknowns instead of 43,801);
4. the same **Farkas LP** on all rows (when there is no ray, or the support
   was too small).

Optimality (:func:`optimal_pair`): HiGHS's optimal basis is re-solved exactly
for the primal vertex and the dual (``Bᵀλ = −c_B``); if the exact pair fails its
check (a float tolerance hid a tiny infeasibility), the exact simplex repair
(:mod:`.repair`) pivots from that basis to an exactly optimal basis (or finds
the LP exactly infeasible/unbounded, and no optimality certificate exists);
only if the repair gives up does HiGHS re-solve without presolve and with
tight tolerances, and the new bases are tried.  Infeasibility ends with the
same repair when the three constructions above fail.

Unboundedness (:func:`unbounded_pair`): the primal ray, rounded or re-derived
on its support like a Farkas ray, plus an exact feasible point from a basis of
the feasibility problem.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from .linalg import ZERO, ExactMatrix, ExactSolver, fractions, nonzero_mask, reconstruct, zeros
from .model import ExactModel
from .repair import highs_basis, repair

try:  # pragma: no cover - import guard
    import highspy
except ImportError:  # pragma: no cover
    highspy = None

SUPPORT_TOL = 1e-9
_BASIC = 1
_LOWER = 0
_UPPER = 2


def _inf(values: np.ndarray, sign: float) -> np.ndarray:
    return np.array([sign * np.inf if v is None else float(v) for v in values], dtype=float)


def _status(values) -> np.ndarray:
    return np.fromiter((int(s) for s in values), dtype=np.int64, count=len(values))


# ----------------------------------------------------------------- small LPs
def highs_model(M: ExactMatrix, row_lo, row_hi, col_lo, col_hi, cost=None):
    """A ``highspy.Highs`` holding ``min cost·x, row_lo ≤ M x ≤ row_hi, col_lo ≤ x ≤ col_hi``."""
    from ..backends.highs import highs_lp

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    n = M.shape[1]
    h.passModel(highs_lp(
        M.to_float(), np.zeros(n) if cost is None else cost,
        _inf(col_lo, -1), _inf(col_hi, 1), _inf(row_lo, -1), _inf(row_hi, 1),
    ))
    return h


def basic_solution(
    M: ExactMatrix, col_status, row_status, row_lo, row_hi, col_lo, col_hi, cost=None
) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """Exact primal vertex (and, with ``cost``, duals) of a basis.

    With basic columns B and nonbasic (active) rows R — ``|B| = |R|`` for a
    valid basis — nonbasic columns sit at the bound their status names and
    ``M[R, B] x_B = rowbound_R − M[R, N] x_N``.  With ``cost`` (objective to
    *maximize*), the duals λ solve ``M[R, B]ᵀ λ_R = −cost_B`` (so ``cost + Mᵀλ``
    vanishes on basic columns) and λ = 0 on basic rows.

    Returns ``(x, λ or None, method)``; x is None when no exact solution was found.
    """
    cs, rs = _status(col_status), _status(row_status)
    m, n = M.shape
    B = np.flatnonzero(cs == _BASIC)
    R = np.flatnonzero(rs != _BASIC)
    if B.size != R.size:
        return None, None, f"invalid basis ({B.size} basic columns, {R.size} active rows)"
    x = zeros(n)
    for j in np.flatnonzero(cs != _BASIC):
        lo, hi = col_lo[j], col_hi[j]
        if cs[j] == _UPPER and hi is not None:
            x[j] = hi
        elif lo is not None and (cs[j] == _LOWER or hi is None):
            x[j] = lo
        elif hi is not None and lo is None:
            x[j] = hi
        else:
            x[j] = ZERO
    target = np.empty(R.size, dtype=object)
    for k, r in enumerate(R):
        lo, hi = row_lo[r], row_hi[r]
        if rs[r] == _UPPER and hi is not None:
            target[k] = hi
        elif lo is not None:
            target[k] = lo
        elif hi is not None:
            target[k] = hi
        else:
            target[k] = ZERO
    MR = M.sub(rows=R)
    N = np.flatnonzero(cs != _BASIC)
    xN = zeros(n)
    xN[N] = x[N]
    rhs = target - MR.matvec(xN)
    solver = ExactSolver(MR.sub(cols=B))
    xB = solver.solve(rhs)
    if xB is None:
        return None, None, "basis system not solved exactly"
    x[B] = xB
    method = solver.method
    lam = None
    if cost is not None:
        cost = np.asarray(cost, dtype=object)
        lamR = solver.solve(-cost[B], transpose=True)
        if lamR is not None:
            lam = zeros(m)
            lam[R] = lamR
    return x, lam, method


def solve_small(M: ExactMatrix, row_lo, row_hi, col_lo, col_hi) -> tuple[np.ndarray | None, str]:
    """Exact vertex of a feasibility LP, via HiGHS's basis."""
    h = highs_model(M, row_lo, row_hi, col_lo, col_hi)
    h.run()
    status = h.getModelStatus().name
    if status != "kOptimal":
        return None, f"HiGHS: {status}"
    basis = h.getBasis()
    x, _, method = basic_solution(M, basis.col_status, basis.row_status, row_lo, row_hi, col_lo, col_hi)
    return x, method


# ----------------------------------------------------------------- infeasibility
def _normalize_max(v: np.ndarray) -> np.ndarray:
    nz = np.flatnonzero(nonzero_mask(v))
    if nz.size == 0:
        return v
    top = max(abs(v[k]) for k in nz)
    return v / top


def farkas_weights(
    model: ExactModel, ray: np.ndarray | None, basis=None,
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Exact Farkas weights (full length, max |y| = 1) and how they were found.

    ``basis``: a float basis (HiGHS codes) for the last resort, the exact
    simplex repair of :mod:`.repair`; HiGHS re-solves for one when None.
    """
    sigma = float(getattr(model.lp, "scale", 1.0) or 1.0)
    scaled, R = _scaled(model) if not 2.0 ** -10 <= sigma <= 2.0 ** 10 else (model, None)
    if scaled is not model:
        # money in tiny or huge units: search on the power-of-two scaled model (the one HiGHS solved),
        # whose weights y' give the original's y = R y' exactly; checked on the original model
        y, info = _farkas_weights(scaled, None if ray is None else ray / R.astype(float), basis)
        if y is not None:
            y = _normalize_max(y * R)
            if model.check_farkas(y).ok:
                info["method"] += " (on the power-of-two scaled model)"
                return y, info
        info = {"attempts": [*info["attempts"], "the scaled model's weights failed the exact check"]}
    return _farkas_weights(model, ray, basis)


def _scaled(model: ExactModel) -> tuple[ExactModel, np.ndarray]:
    """The model with the HiGHS backend's exact power-of-two scaling (rows × R, money columns × D).

    Returns ``(scaled model, R as Fractions)``; the model itself (and ones) when no row or column is
    scaled.  ``y'`` is a Farkas vector of the scaled model iff ``y = R y'`` is one of the original:
    ``(y'ᵀ R A D)_j = D_j (yᵀA)_j`` with ``D_j > 0`` and the bounds divided by ``D_j``.
    """
    import copy

    from ..backends.highs import scaling

    R, D, _ = scaling(model.lp)
    Rf = np.array([Fraction(float(v)) for v in R], dtype=object)
    if np.all(R == 1.0) and np.all(D == 1.0):
        return model, Rf
    Df = np.array([Fraction(float(v)) for v in D], dtype=object)
    rows, cols, vals = model.A.coo()
    out = copy.copy(model)
    out.A = ExactMatrix(rows, cols, vals * Rf[rows] * Df[cols], (model.m, model.N))
    out.rhs = model.rhs * Rf
    out.c = model.c * Df
    out.lb = np.array([None if v is None else v / d for v, d in zip(model.lb, Df)], dtype=object)
    out.ub = np.array([None if v is None else v / d for v, d in zip(model.ub, Df)], dtype=object)
    return out, Rf


def _farkas_weights(
    model: ExactModel, ray: np.ndarray | None, basis=None,
) -> tuple[np.ndarray | None, dict[str, Any]]:
    info: dict[str, Any] = {"attempts": []}
    if ray is not None and np.all(np.isfinite(ray)) and np.abs(ray).max() > 0:
        yf = ray / np.abs(ray).max()
        yf = np.where(np.abs(yf) > SUPPORT_TOL, yf, 0.0)
        guess = reconstruct(yf.astype(object), max_den=10**12)
        if guess is not None and model.check_farkas(guess).ok:
            info["method"] = "HiGHS dual ray, rounded to rationals"
            return _normalize_max(guess), info
        info["attempts"].append("rounded dual ray failed the exact check")
    # lottery elimination first: where it applies (type-count LPs, efficiency bounds) its LP is small,
    # while the ray's support can hold tens of thousands of rows (8 citizens x 11 types: 6 s against > 100 s)
    y, how = farkas_lottery(model)
    if y is not None:
        info["method"] = how
        return _normalize_max(y), info
    info["attempts"].append(f"lottery elimination: {how}")
    if ray is not None and np.all(np.isfinite(ray)) and np.abs(ray).max() > 0:
        yf = ray / np.abs(ray).max()
        for tol in (SUPPORT_TOL, 1e-12):
            support = np.flatnonzero(np.abs(yf) > tol)
            y, how = _farkas_lp(model, support)
            if y is not None:
                info["method"] = f"support LP on {support.size} rows of the dual ray, basis solved exactly ({how})"
                return _normalize_max(y), info
            info["attempts"].append(f"support LP ({support.size} rows): {how}")
    y, how = _farkas_lp(model, np.arange(model.m))
    if y is not None:
        info["method"] = f"Farkas LP on all {model.m} rows, basis solved exactly ({how})"
        return _normalize_max(y), info
    info["attempts"].append(f"Farkas LP: {how}")
    if basis is None and model.lp is not None:
        basis = highs_basis(model.lp)
    out = repair(model, basis)
    if out.status == "infeasible":
        info["method"] = out.message
        info["repair"] = out
        return out.farkas, info
    info["attempts"].append(f"exact repair: {out.status} ({out.message})")
    return None, info


def farkas_lottery(model: ExactModel) -> tuple[np.ndarray | None, str]:
    """Farkas weights with the lottery rows eliminated (most lotteries have one allowed outcome).

    Lottery rows ``Σ_{j∈ℓ} x_j = 1`` (x ≥ 0, ``ub`` None or 0: outcomes ruled out by efficiency
    bounds, as in the type-count LP) enter ``g = Aᵀy`` only through their own columns:
    ``g_j = y_ℓ + (A_Eᵀ y_E)_j`` (E: the other rows).  ``β = 0`` needs ``g_j ≤ 0`` on each allowed
    column, and ``yᵀb`` grows with ``y_ℓ``, so the best ``y_ℓ`` is ``min_j −(A_Eᵀ y_E)_j`` over the
    allowed columns of ℓ — linear in ``y_E`` when ℓ has one allowed column.  The small LP is over
    ``y_E`` and the ``y_ℓ`` of lotteries with several allowed columns; its exact basic solution is
    completed and checked exactly (:meth:`ExactModel.check_farkas`).  ``None`` when the LP has no
    such structure, the reduction would not be smaller, or the check fails (callers fall back).
    """
    lp = model.lp
    try:
        fam = lp.family("lottery")
    except (KeyError, AttributeError):
        return None, "no lottery family"
    L = np.arange(fam.start, fam.stop)
    if L.size == 0 or not model.eq[L].all() or any(model.rhs[r] != 1 for r in L.tolist()):
        return None, "no lottery rows Σ x = 1"
    r, c, v = model.A.sub(rows=L).coo()
    if any(val != 1 for val in v.tolist()) or np.unique(c).size != c.size:
        return None, "lottery rows are not disjoint sums"
    if any(model.lb[j] != 0 or model.ub[j] not in (None, ZERO) for j in c.tolist()):
        return None, "lottery columns are not x ≥ 0"
    allowed = np.array([model.ub[j] is None for j in c.tolist()], dtype=bool)
    n_allowed = np.bincount(r[allowed], minlength=L.size)
    if (n_allowed == 0).any():  # a lottery with every outcome ruled out: that row alone is a proof
        y = zeros(model.m)
        y[L[int(np.flatnonzero(n_allowed == 0)[0])]] = Fraction(1)
        return (y, "one lottery row with every outcome fixed at 0") if model.check_farkas(y).ok else (None, "check")
    single = n_allowed == 1
    if single.sum() * 2 < L.size:
        return None, "most lotteries allow several outcomes"
    in_lottery = np.zeros(model.N, dtype=bool)
    in_lottery[c] = True
    E = np.setdiff1d(np.arange(model.m), L)
    AE = model.A.sub(rows=E)
    order = np.argsort(r[allowed & single[r]], kind="stable")
    single_cols = c[allowed & single[r]][order]  # one column per single-outcome lottery row, in row order
    tie = allowed & ~single[r]
    tie_cols, tie_rows = c[tie], r[tie]
    tie_ids, tie_var = np.unique(tie_rows, return_inverse=True)
    others = np.flatnonzero(~in_lottery)
    if any(model.lb[j] not in (None, ZERO) or model.ub[j] not in (None, ZERO) for j in others.tolist()):
        return None, "other columns have nonzero bounds"
    nE, nW = E.size, tie_ids.size
    rows_, cols_, vals_, lo, hi = [], [], [], [], []
    n_rows = 0
    # (1) columns outside the lotteries: g_j compatible with the bounds
    oc, oe, ov = AE.sub(cols=others).T.coo()
    keep = np.unique(oc)
    pos = np.full(others.size, -1)
    pos[keep] = np.arange(keep.size)
    rows_.append(pos[oc])
    cols_.append(oe)
    vals_.append(ov)
    for j in others[keep].tolist():
        fl, fu = model.lb[j] is not None, model.ub[j] is not None
        lo.append(None if fl and not fu else ZERO)
        hi.append(None if fu and not fl else ZERO)
    n_rows += keep.size
    # (2) lotteries with several allowed outcomes: y_ℓ + (A_Eᵀ y_E)_j ≤ 0
    tc, te, tv = AE.sub(cols=tie_cols).T.coo()
    rows_ += [n_rows + tc, n_rows + np.arange(tie_cols.size)]
    cols_ += [te, nE + tie_var]
    vals_ += [tv, np.array([Fraction(1)] * tie_cols.size, dtype=object)]
    lo += [None] * tie_cols.size
    hi += [ZERO] * tie_cols.size
    n_rows += tie_cols.size
    # (3) normalization: y_Eᵀ b_E − Σ_single (A_Eᵀ y_E)_j + Σ_ties y_ℓ = 1
    ones = np.array([Fraction(1)] * single_cols.size, dtype=object)
    coef = model.rhs[E] - AE.sub(cols=single_cols).matvec(ones)
    nz = np.flatnonzero(nonzero_mask(coef))
    rows_ += [np.full(nz.size, n_rows), np.full(nW, n_rows)]
    cols_ += [nz, nE + np.arange(nW)]
    vals_ += [coef[nz], np.array([Fraction(1)] * nW, dtype=object)]
    lo.append(Fraction(1))
    hi.append(Fraction(1))
    n_rows += 1
    M = ExactMatrix(np.concatenate(rows_), np.concatenate(cols_),
                    np.concatenate([np.asarray(a, dtype=object) for a in vals_]), (n_rows, nE + nW))
    col_lo = [None if model.eq[e] else ZERO for e in E.tolist()] + [None] * nW
    x, how = solve_small(M, lo, hi, col_lo, [None] * (nE + nW))
    if x is None:
        return None, how
    y = zeros(model.m)
    y[E] = x[:nE]
    g = model.A.rmatvec(y)
    y[L[single]] = -g[single_cols]
    y[L[tie_ids]] = x[nE:]
    if not model.check_farkas(y).ok:
        return None, "completed weights failed the exact Farkas check"
    return y, (f"Farkas LP with {L.size - nW} of {L.size} lottery rows eliminated ({nE + nW} unknowns), "
               f"basis solved exactly ({how})")


def _farkas_lp(model: ExactModel, S: np.ndarray) -> tuple[np.ndarray | None, str]:
    """Find exact y supported on rows S with ``Aᵀy`` bound-compatible and normalized rhs 1."""
    S = np.asarray(S, dtype=np.int64)
    if S.size == 0:
        return None, "empty support"
    AS = model.A.sub(rows=S)
    rows, cols, vals = AS.coo()
    J = np.unique(cols)
    lbf = np.array([model.lb[j] is not None for j in J], dtype=bool)
    ubf = np.array([model.ub[j] is not None for j in J], dtype=bool)
    fixed = np.array([lbf[k] and ubf[k] and model.lb[j] == model.ub[j] for k, j in enumerate(J)], dtype=bool)
    box = lbf & ubf & ~fixed
    # constant part of the bound term: one-sided and fixed columns sit at their finite bound
    bound_at = zeros(model.N)
    for k, j in enumerate(J):
        if box[k]:
            continue
        if lbf[k]:
            bound_at[j] = model.lb[j]
        elif ubf[k]:
            bound_at[j] = model.ub[j]
    bprime = model.rhs[S] - AS.matvec(bound_at)
    # rows of the small LP: one per column j in J (except fixed and box), then box pairs, then normalization
    keep = ~fixed & ~box
    row_of = np.full(model.N, -1, dtype=np.int64)
    row_of[J[keep]] = np.arange(keep.sum())
    r_rows, r_cols, r_vals = [], [], []
    sel = row_of[cols] >= 0
    r_rows.append(row_of[cols[sel]])
    r_cols.append(rows[sel])
    r_vals.append(vals[sel])
    n_y = S.size
    n_rows = int(keep.sum())
    row_lo: list = []
    row_hi: list = []
    for k in np.flatnonzero(keep):
        if lbf[k]:  # g_j ≤ 0
            row_lo.append(None)
            row_hi.append(ZERO)
        elif ubf[k]:  # g_j ≥ 0
            row_lo.append(ZERO)
            row_hi.append(None)
        else:  # g_j = 0
            row_lo.append(ZERO)
            row_hi.append(ZERO)
    box_cols = J[box]
    n_t = box_cols.size
    if n_t:
        col_pos = {int(j): t for t, j in enumerate(box_cols)}
        for which in ("ub", "lb"):
            for j in box_cols:
                # t_j − bound_j · g_j ≥ 0
                bound = model.ub[j] if which == "ub" else model.lb[j]
                r = n_rows
                n_rows += 1
                m_sel = cols == j
                r_rows.append(np.full(m_sel.sum(), r))
                r_cols.append(rows[m_sel])
                r_vals.append(-bound * vals[m_sel])
                r_rows.append(np.array([r]))
                r_cols.append(np.array([n_y + col_pos[int(j)]]))
                r_vals.append(np.array([Fraction(1)], dtype=object))
                row_lo.append(ZERO)
                row_hi.append(None)
    norm = n_rows
    n_rows += 1
    nzb = np.flatnonzero(nonzero_mask(bprime))
    r_rows.append(np.full(nzb.size, norm))
    r_cols.append(nzb)
    r_vals.append(bprime[nzb])
    if n_t:
        r_rows.append(np.full(n_t, norm))
        r_cols.append(n_y + np.arange(n_t))
        r_vals.append(np.array([Fraction(-1)] * n_t, dtype=object))
    row_lo.append(Fraction(1))
    row_hi.append(Fraction(1))
    M = ExactMatrix(
        np.concatenate(r_rows), np.concatenate(r_cols),
        np.concatenate([np.asarray(v, dtype=object) for v in r_vals]), (n_rows, n_y + n_t),
    )
    col_lo = [None if model.eq[r] else ZERO for r in S] + [None] * n_t
    col_hi = [None] * (n_y + n_t)
    x, how = solve_small(M, row_lo, row_hi, col_lo, col_hi)
    if x is None:
        return None, how
    y = zeros(model.m)
    y[S] = x[:n_y]
    if not model.check_farkas(y).ok:
        return None, "exact basic solution failed the Farkas check"
    return y, how


# ----------------------------------------------------------------- optimality
def _row_bounds(model: ExactModel) -> tuple[np.ndarray, np.ndarray]:
    lo = model.rhs.copy()
    hi = np.where(model.eq, model.rhs, None)
    return lo, hi


def optimal_pair(
    model: ExactModel, basis, lp, repair_limit: float | None = 120.0,
) -> tuple[np.ndarray | None, np.ndarray | None, dict[str, Any]]:
    """Exact optimal primal z and dual λ from HiGHS's basis, repaired exactly if needed.

    Order: HiGHS's basis solved exactly; if that pair fails its check, the exact
    simplex repair from that basis (at most ``repair_limit`` seconds); if the
    repair gives up, HiGHS re-solves with tight tolerances (three ways) and each
    basis is tried exactly.  Returns ``(None, None, info)`` when no exact
    optimum exists (the repair may have found the LP exactly infeasible: see
    ``info["attempts"]``) or none was found.
    """
    info: dict[str, Any] = {"attempts": []}
    lo, hi = _row_bounds(model)
    bases = []
    if basis is not None and getattr(basis, "valid", True):
        bases.append(("HiGHS optimal basis", basis))
    retries = [
        ("HiGHS optimal basis (re-solved without presolve, tight tolerances)", {}),
        ("HiGHS primal simplex basis (tight tolerances)", {"simplex_strategy": 4}),
        ("HiGHS interior point + crossover basis (tight tolerances)", {"solver": "ipm"}),
    ]
    repaired = False
    k = 0
    while k < len(bases) or retries:
        if k == len(bases):
            if not repaired:  # exact pivots from the first basis before any re-solve
                repaired = True
                start = bases[0][1] if bases else _tight_basis(lp)
                out = repair(model, start, time_limit=repair_limit)
                if out.status == "optimal":
                    info["method"] = out.message
                    info["repair"] = out
                    return out.z, out.lam, info
                info["attempts"].append(f"exact repair: {out.status} ({out.message})")
                if out.status in ("infeasible", "unbounded"):  # no optimum exists in exact arithmetic
                    info["method"] = (f"none: the LP is {out.status} in exact arithmetic "
                                      f"(solve(exact=True) returns its certificate)")
                    return None, None, info
            label, opts = retries.pop(0)
            bases.append((label, _tight_basis(lp, **opts)))
        name, b = bases[k]
        k += 1
        if b is None:
            continue
        z, lam, how = basic_solution(model.A, b.col_status, b.row_status, lo, hi, model.lb, model.ub, cost=model.c)
        if z is None or lam is None:
            info["attempts"].append(f"{name}: {how}")
            continue
        chk = model.check_optimality(z, lam)
        if chk.ok:
            info["method"] = f"{name}, solved exactly ({how})"
            return z, lam, info
        info["attempts"].append(f"{name}: {'; '.join(chk.failures)}")
    info["method"] = "no exact optimal basis found"
    return None, None, info


def _tight_basis(lp, **options):
    """An optimal basis from HiGHS re-solving without presolve, tight tolerances, extra options."""
    from ..backends.highs import build_highs

    h = build_highs(lp)
    for key, value in options.items():
        h.setOptionValue(key, value)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("primal_feasibility_tolerance", 1e-10)
    h.setOptionValue("dual_feasibility_tolerance", 1e-10)
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return None
    return h.getBasis()


# ----------------------------------------------------------------- unboundedness
def unbounded_pair(model: ExactModel, ray: np.ndarray | None, lp) -> tuple[np.ndarray | None, np.ndarray | None, dict]:
    """Exact feasible point z and improving direction d."""
    info: dict[str, Any] = {"attempts": []}
    d = None
    if ray is not None and np.all(np.isfinite(ray)) and np.abs(ray).max() > 0:
        df = ray / np.abs(ray).max()
        df = np.where(np.abs(df) > SUPPORT_TOL, df, 0.0)
        guess = reconstruct(df.astype(object), max_den=10**12)
        if guess is not None and model.check_ray(guess).ok:
            d = _normalize_max(guess)
            info["ray"] = "HiGHS primal ray, rounded to rationals"
        else:
            support = np.flatnonzero(np.abs(df) > SUPPORT_TOL)
            d, how = _ray_lp(model, support)
            info["ray"] = f"support LP on {support.size} columns ({how})"
    if d is None:
        d, how = _ray_lp(model, np.arange(model.N))
        info["ray"] = f"ray LP on all columns ({how})"
    z, how = feasible_point(model, lp)
    info["point"] = how
    return z, d, info


def _ray_lp(model: ExactModel, S: np.ndarray) -> tuple[np.ndarray | None, str]:
    S = np.asarray(S, dtype=np.int64)
    if S.size == 0:
        return None, "empty support"
    AS = model.A.sub(cols=S)
    rows, _, _ = AS.coo()
    R = np.unique(rows)
    M_rows = AS.sub(rows=R)
    cS = model.c[S]
    nzc = np.flatnonzero(nonzero_mask(cS))
    r0, c0, v0 = M_rows.coo()
    M = ExactMatrix(
        np.concatenate([r0, np.full(nzc.size, R.size)]), np.concatenate([c0, nzc]),
        np.concatenate([v0, cS[nzc]]), (R.size + 1, S.size),
    )
    row_lo = [ZERO] * R.size + [Fraction(1)]
    row_hi = [ZERO if model.eq[r] else None for r in R] + [Fraction(1)]
    col_lo = [ZERO if model.lb[j] is not None else None for j in S]
    col_hi = [ZERO if model.ub[j] is not None else None for j in S]
    x, how = solve_small(M, row_lo, row_hi, col_lo, col_hi)
    if x is None:
        return None, how
    d = zeros(model.N)
    d[S] = x
    if not model.check_ray(d).ok:
        return None, "exact basic solution failed the ray check"
    return _normalize_max(d), how


def feasible_point(model: ExactModel, lp) -> tuple[np.ndarray | None, str]:
    """An exact feasible point: a basis of the feasibility problem, solved exactly."""
    from ..backends.highs import build_highs

    h = build_highs(lp)
    h.changeColsCost(model.N, np.arange(model.N, dtype=np.int32), np.zeros(model.N))
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return None, f"HiGHS feasibility solve: {h.getModelStatus().name}"
    b = h.getBasis()
    lo, hi = _row_bounds(model)
    z, _, how = basic_solution(model.A, b.col_status, b.row_status, lo, hi, model.lb, model.ub)
    if z is None:
        return None, how
    if not model.check_primal(z).ok:
        return None, "exact basic point failed the feasibility check"
    return z, f"basis of the feasibility problem, solved exactly ({how})"


__all__ = ["farkas_weights", "farkas_lottery", "optimal_pair", "unbounded_pair", "feasible_point", "fractions"]
