"""Exact basis repair: rational simplex pivots from a floating-point basis.

HiGHS works with tolerances (about 1e-7): a basis it calls optimal can be
slightly primal infeasible (a 1e-9 violation is invisible to it) or slightly
dual infeasible in exact arithmetic.  This module takes such a basis and
*repairs* it with exact simplex pivots, in the spirit of iterative refinement
in SoPlex (Gleixner, Steffy & Wolter 2016) and of QSopt_ex (Applegate, Cook,
Dash & Espinoza 2007): the float solver proposes a basis, rational arithmetic
decides, and pivots are made exactly only where the float basis is wrong.

Form
----
With row activities ``s = A z`` the LP (maximize ``c·z``) is

    maximize c·z   s.t.   A z − s = 0,   lb ≤ z ≤ ub,   b ≤ s (≤ b on equality rows)

over the ``N + m`` variables ``(z, s)`` — exactly HiGHS's column/row basis
statuses.  A basis is m of these variables; the others sit at a bound (or at 0
when free).  For a basis B (``m × m`` columns of ``[A, −I]``):

* primal: ``x_B = −B⁻¹ N x_N``;
* dual: ``Bᵀy = c_B``, reduced costs ``d = c − [A, −I]ᵀ y``; dual feasible (for
  a maximum) when ``d_j ≤ 0`` at lower bounds, ``≥ 0`` at upper bounds and
  ``= 0`` on free nonbasic variables; the LP duals of :mod:`.model` are
  ``λ = −y``.

Algorithm (every number a :class:`fractions.Fraction`)
------------------------------------------------------
1. Primal feasible basis → **primal simplex** (bounded variables) to an exact
   optimum, or an exact improving ray (unbounded).
2. Otherwise, **cost shifting**: the costs of dual-infeasible nonbasic
   variables are shifted so that the basis is dual feasible (``d'_j = 0``), the
   **dual simplex** runs to a primal feasible basis — or stops at a row with no
   entering candidate, whose row of ``B⁻¹`` is an exact Farkas certificate
   (costs play no part in it) — and then the primal simplex with the true costs
   finishes.  Without shifting needed (the basis is dual feasible) the dual
   simplex ends at the optimum directly.

Pivot rules: Dantzig's largest violation / largest reduced cost, switching
permanently to Bland's smallest-index rule (Bland 1977) as soon as a basis
repeats, which guarantees termination.  Each pivot refactors the basis with
:class:`~mechopt.certificates.linalg.ExactSolver` (float LU proposes, exact
substitution confirms, FLINT's exact dense solver for hard cores): a fresh,
exactly checked solve per pivot, practical for the few pivots a float basis
needs on LPs of a few thousand rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .linalg import DENSE_LIMIT, QUICK, ZERO, ExactMatrix, ExactSolver, nonzero_mask, zeros
from .model import ExactModel

__all__ = ["RepairOutcome", "ExactSimplex", "repair", "highs_basis"]

#: default cap on exact pivots (primal + dual) before giving up
MAX_PIVOTS = 5000
#: pivots between recomputations of x, y and d from scratch
REFRESH = 50

_LOWER, _UPPER, _FREE, _FIXED, _BOX = 0, 1, 2, 3, 4  # finite bounds: lower only, upper only, …


@dataclass
class RepairOutcome:
    """What the exact repair found.

    Attributes
    ----------
    status : {"optimal", "infeasible", "unbounded", "failed"}
    z : object ndarray (N,) or None
        Exact primal point over LP columns (optimal, unbounded).
    lam : object ndarray (m,) or None
        Exact duals λ (≥ 0 on ≥ rows) proving optimality.
    farkas : object ndarray (m,) or None
        Exact Farkas weights (max |y| = 1) proving infeasibility.
    ray : object ndarray (N,) or None
        Exact improving direction (unbounded).
    pivots : dict
        ``{"primal": k, "dual": k, "flips": k, "bland": bool, "shifted": k}``.
    message : str
    seconds : float
    """

    status: str
    z: np.ndarray | None = None
    lam: np.ndarray | None = None
    farkas: np.ndarray | None = None
    ray: np.ndarray | None = None
    pivots: dict = field(default_factory=dict)
    message: str = ""
    seconds: float = 0.0

    @property
    def total_pivots(self) -> int:
        return int(self.pivots.get("primal", 0) + self.pivots.get("dual", 0))


class _Stop(Exception):
    pass


class ExactSimplex:
    """Bounded-variable primal and dual simplex in rational arithmetic.

    Parameters
    ----------
    model : ExactModel
        The exact LP data (``A`` (m, N), ``rhs``, ``eq``, ``c``, ``lb``, ``ub``).
    max_pivots : int
        Give up (status ``failed``) after this many pivots.
    time_limit : float or None
        Give up after this many seconds.
    bland : bool
        Use Bland's smallest-index rule from the start (otherwise only after a
        basis repeats).
    """

    def __init__(self, model: ExactModel, max_pivots: int = MAX_PIVOTS, time_limit: float | None = None,
                 bland: bool = False) -> None:
        self.model = model
        m, N = model.m, model.N
        self.m, self.N, self.n = m, N, N + m
        rows, cols, vals = model.A.coo()
        minus = np.empty(m, dtype=object)
        minus[:] = Fraction(-1)
        self.W = ExactMatrix(
            np.concatenate([rows, np.arange(m)]), np.concatenate([cols, N + np.arange(m)]),
            np.concatenate([vals, minus]), (m, N + m),
        )
        self.Wc = self.W.pos.tocsc()
        lo = np.empty(self.n, dtype=object)
        hi = np.empty(self.n, dtype=object)
        lo[:N], hi[:N] = model.lb, model.ub
        lo[N:] = model.rhs
        hi[N:] = np.where(model.eq, model.rhs, None)
        self.lo, self.hi = lo, hi
        self.kind = np.full(self.n, _LOWER, dtype=np.int8)  # bound type of each variable
        for j in range(self.n):
            a, b = lo[j], hi[j]
            if a is None:
                self.kind[j] = _FREE if b is None else _UPPER
            elif b is not None:
                self.kind[j] = _FIXED if a == b else _BOX
        self.cost = zeros(self.n)
        self.cost[:N] = model.c
        self.max_pivots = max_pivots
        self.deadline = None if time_limit is None else time.perf_counter() + time_limit
        self.pivots = {"primal": 0, "dual": 0, "flips": 0, "bland": bool(bland), "shifted": 0}
        self._seen: set = set()
        self._dense = False  # prefer exact dense solves (set when float reconstruction fails)
        self._x_fresh = False  # x solved from scratch for the current basis and bounds
        self._d_fresh = None  # the cost vector y and d were solved for (None: updated or stale)

    # ------------------------------------------------------------ basis state
    def set_basis(self, col_status=None, row_status=None) -> bool:
        """Start from HiGHS statuses (codes 0 lower, 1 basic, 2 upper, 3 zero, 4 nonbasic).

        Falls back to the slack basis (every row activity basic) when the
        statuses are missing, do not have m basic variables, or the basis is
        singular.  Returns True when the given basis was used.
        """
        used = False
        if col_status is not None and row_status is not None:
            st = np.fromiter((int(v) for v in list(col_status) + list(row_status)), dtype=np.int64)
            if st.size == self.n and int((st == 1).sum()) == self.m:
                self.basic = np.flatnonzero(st == 1)
                self.upper = ((st == 2) & (self.kind == _BOX)) | (self.kind == _UPPER)
                used = self._factor()
        if not used:
            self.basic = self.N + np.arange(self.m)
            self.upper = self.kind == _UPPER
            if not self._factor():  # pragma: no cover - −I is always regular
                raise _Stop("the slack basis could not be factored")
        return used

    def _factor(self) -> bool:
        self.is_basic = np.zeros(self.n, dtype=bool)
        self.is_basic[self.basic] = True
        self.solver = ExactSolver(self.W.sub(cols=self.basic), prefer_dense=self._dense)
        return self._primal() is not None

    def _solve(self, r: np.ndarray, transpose: bool = False) -> np.ndarray | None:
        """Exact solve with the current basis; once the quick float path fails (large
        denominators), later bases go straight to FLINT's exact dense solver."""
        out = self.solver.solve(r, transpose=transpose)
        if not self._dense and self.solver.method not in ("", QUICK, "zero right-hand side"):
            self._dense = self.m <= DENSE_LIMIT
            self.solver.prefer_dense = self._dense
        return out

    def _nonbasic_values(self) -> np.ndarray:
        x = zeros(self.n)
        for j in np.flatnonzero(~self.is_basic):
            k = self.kind[j]
            if k == _FREE:
                continue
            x[j] = self.hi[j] if (self.upper[j] or self.lo[j] is None) else self.lo[j]
        return x

    def _primal(self) -> np.ndarray | None:
        x = self._nonbasic_values()
        xB = self._solve(-self.W.matvec(x))
        if xB is None:
            return None
        x[self.basic] = xB
        self.x = x
        self._x_fresh = True
        return x

    def _duals(self, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = self._solve(cost[self.basic], transpose=True)
        if y is None:
            raise _Stop("the basis system could not be solved exactly")
        d = cost - self.W.rmatvec(y)
        d[self.basic] = ZERO
        return y, d

    def _column(self, j: int) -> np.ndarray:
        a, b = self.Wc.indptr[j], self.Wc.indptr[j + 1]
        col = zeros(self.m)
        col[self.Wc.indices[a:b]] = self.W.vals[self.Wc.data[a:b].astype(np.int64) - 1]
        return col

    def refresh(self, cost: np.ndarray) -> None:
        """Recompute x, y and d from scratch for the current basis (exact solves).

        Skips what is already fresh: x right after factoring, y and d when the
        cost vector is the one they were solved for and no pivot happened since.
        """
        if not self._x_fresh and self._primal() is None:
            raise _Stop("the basis system could not be solved exactly")
        if self._d_fresh is not cost:
            self.y, self.d = self._duals(cost)
            self._d_fresh = cost
        self.cc = cost
        self._since = 0

    def _ftran(self, q: int) -> np.ndarray:
        w = self._solve(self._column(q))
        if w is None:
            raise _Stop("an entering column could not be solved exactly")
        return w

    def _btran(self, r: int) -> np.ndarray:
        e = zeros(self.m)
        e[r] = Fraction(1)
        rho = self._solve(e, transpose=True)
        if rho is None:
            raise _Stop("a row of the basis inverse could not be solved exactly")
        return rho

    def _tick(self, which: str) -> None:
        self.pivots[which] += 1
        if self.pivots["primal"] + self.pivots["dual"] > self.max_pivots:
            raise _Stop(f"more than {self.max_pivots} exact pivots")
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _Stop("time limit of the exact repair reached")
        key = (tuple(np.sort(self.basic).tolist()), tuple(np.flatnonzero(self.upper & ~self.is_basic).tolist()))
        if key in self._seen:
            self.pivots["bland"] = True  # a basis repeated: Bland's rule from now on (no cycling)
        self._seen.add(key)

    def _move(self, q: int, step: Fraction, w: np.ndarray) -> None:
        """x_q += step, x_B −= step·w (the basic solution follows the nonbasic move exactly)."""
        self._x_fresh = False
        self.x[q] = self.x[q] + step
        nz = np.flatnonzero(nonzero_mask(w))
        self.x[self.basic[nz]] = self.x[self.basic[nz]] - step * w[nz]

    def _pivot(self, r: int, q: int, leave_upper: bool, rho: np.ndarray, alpha: np.ndarray) -> None:
        """Exchange basic position r for q; update y and d by the product-form rule
        (``y += θρ``, ``d −= θα`` with ``θ = d_q/α_q``) and refactor (periodically from scratch)."""
        out = int(self.basic[r])
        self._x_fresh, self._d_fresh = False, None
        theta = self.d[q] / alpha[q]
        nz = np.flatnonzero(nonzero_mask(alpha))
        self.d[nz] = self.d[nz] - theta * alpha[nz]
        self.d[out] = -theta
        self.d[q] = ZERO
        nzr = np.flatnonzero(nonzero_mask(rho))
        self.y[nzr] = self.y[nzr] + theta * rho[nzr]
        self.x[out] = self.hi[out] if leave_upper else self.lo[out]
        self.basic = self.basic.copy()
        self.basic[r] = q
        self.upper[out] = leave_upper
        self.upper[q] = False
        self.is_basic[out], self.is_basic[q] = False, True
        self.solver = ExactSolver(self.W.sub(cols=self.basic), prefer_dense=self._dense)
        self._since += 1
        if self._since >= REFRESH:
            self.refresh(self.cc)

    # ----------------------------------------------------------- feasibility
    def primal_violations(self) -> list[tuple[int, Fraction, int]]:
        """(position in basis, amount, +1 below lower / −1 above upper) of infeasible basics."""
        out = []
        for k, j in enumerate(self.basic):
            v, a, b = self.x[j], self.lo[j], self.hi[j]
            if a is not None and v < a:
                out.append((k, a - v, 1))
            elif b is not None and v > b:
                out.append((k, v - b, -1))
        return out

    def dual_violations(self, d: np.ndarray) -> np.ndarray:
        """Nonbasic variables whose reduced cost allows improvement (for a maximum)."""
        nz = nonzero_mask(d) & ~self.is_basic & (self.kind != _FIXED)
        bad = []
        for j in np.flatnonzero(nz):
            k = self.kind[j]
            if k == _FREE or (d[j] > 0 and not self.upper[j]) or (d[j] < 0 and self.upper[j]):
                bad.append(j)
        return np.asarray(bad, dtype=np.int64)

    # ------------------------------------------------------------ dual simplex
    def dual_simplex(self, cost: np.ndarray) -> tuple[str, np.ndarray | None]:
        """Dual simplex from a dual feasible basis: ``("feasible", None)`` or ``("infeasible", y)``.

        Every verdict is taken on freshly solved x and d (after incremental
        updates the state is recomputed before stopping).
        """
        self.refresh(cost)
        while True:
            viol = self.primal_violations()
            if not viol:
                if self._since == 0:
                    return "feasible", None
                self.refresh(cost)
                continue
            if self.pivots["bland"]:
                r, _, sgn = min(viol, key=lambda t: int(self.basic[t[0]]))
            else:
                r, _, sgn = max(viol, key=lambda t: t[1])
            rho = self._btran(r)
            alpha = self.W.rmatvec(rho)
            best = None
            for j in np.flatnonzero(nonzero_mask(alpha) & ~self.is_basic & (self.kind != _FIXED)):
                a = sgn * alpha[j]
                k = self.kind[j]
                if not (k == _FREE or (a < 0 and not self.upper[j]) or (a > 0 and self.upper[j])):
                    continue
                ratio = self.d[j] / a
                key = (ratio, j) if self.pivots["bland"] else (ratio, -abs(a), j)
                if best is None or key < best[0]:
                    best = (key, j)
            if best is None:  # no entering variable: row r of B⁻¹ proves infeasibility
                if self._since == 0:
                    return "infeasible", -sgn * rho
                self.refresh(cost)
                continue
            self._tick("dual")
            q = int(best[1])
            out = int(self.basic[r])
            w = self._ftran(q)
            bound = self.lo[out] if sgn > 0 else self.hi[out]
            self._move(q, (self.x[out] - bound) / w[r], w)
            self._pivot(r, q, sgn < 0, rho, alpha)

    # ---------------------------------------------------------- primal simplex
    def primal_simplex(self, cost: np.ndarray) -> tuple[str, np.ndarray | None]:
        """Primal simplex from a primal feasible basis: ``("optimal", y)`` or ``("unbounded", direction)``."""
        self.refresh(cost)
        while True:
            cand = self.dual_violations(self.d)
            if cand.size == 0:
                if self._since == 0:
                    return "optimal", self.y
                self.refresh(cost)
                continue
            d = self.d
            if self.pivots["bland"]:
                q = int(cand.min())
            else:
                q = int(max(cand, key=lambda j: (abs(d[j]), -j)))
            delta = 1 if d[q] > 0 else -1
            w = self._ftran(q)
            step, leave = None, None
            for k in np.flatnonzero(nonzero_mask(w)):
                j = int(self.basic[k])
                dw = delta * w[k]
                if dw > 0 and self.lo[j] is not None:
                    t, up = (self.x[j] - self.lo[j]) / dw, False
                elif dw < 0 and self.hi[j] is not None:
                    t, up = (self.hi[j] - self.x[j]) / (-dw), True
                else:
                    continue
                key = (t, j)
                if step is None or key < step:
                    step, leave = key, (int(k), up)
            flip = self.hi[q] - self.lo[q] if self.kind[q] == _BOX else None
            if step is None and flip is None:
                if self._since:
                    self.refresh(cost)
                    continue
                D = zeros(self.n)
                D[q] = Fraction(delta)
                D[self.basic] = -delta * w
                return "unbounded", D
            self._tick("primal")
            if flip is not None and (step is None or flip <= step[0]):
                self.pivots["flips"] += 1
                self._move(q, delta * flip, w)
                self.upper[q] = not self.upper[q]
                self._since += 1
                continue
            r, up = leave
            self._move(q, delta * step[0], w)
            rho = self._btran(r)
            self._pivot(r, q, up, rho, self.W.rmatvec(rho))


def repair(
    model: ExactModel, basis=None, max_pivots: int = MAX_PIVOTS, time_limit: float | None = None,
    bland: bool = False,
) -> RepairOutcome:
    """Repair a float basis exactly into a proof: optimal pair, Farkas weights or an improving ray.

    Parameters
    ----------
    model : ExactModel
    basis : mechopt.backends.base.Basis or highspy.HighsBasis, optional
        Start (``col_status`` (N,), ``row_status`` (m,)); the slack basis if None or invalid.
    max_pivots, time_limit
        Limits; past them the outcome is ``failed``.
    bland : bool
        Bland's rule throughout (slower, but never cycles even without the
        repeated-basis switch).

    Returns
    -------
    RepairOutcome
        Every returned proof has passed the exact check of :mod:`.model`.
    """
    start = time.perf_counter()
    sx = ExactSimplex(model, max_pivots=max_pivots, time_limit=time_limit, bland=bland)
    notes: list[str] = []
    try:
        cs = getattr(basis, "col_status", None) if basis is not None and getattr(basis, "valid", True) else None
        rs = getattr(basis, "row_status", None) if cs is not None else None
        used = sx.set_basis(cs, rs)
        notes.append("from the float basis" if used else "from the slack basis")
        sx.refresh(sx.cost)
        d = sx.d
        if sx.primal_violations():
            bad = sx.dual_violations(d)
            cost = sx.cost
            if bad.size:
                cost = sx.cost.copy()
                cost[bad] = cost[bad] - d[bad]  # shifted costs: the basis is dual feasible for them
                sx.pivots["shifted"] = int(bad.size)
            state, rho = sx.dual_simplex(cost)
            if state == "infeasible":
                return _farkas_outcome(model, rho, sx, notes, start)
        state, vec = sx.primal_simplex(sx.cost)
    except _Stop as exc:
        p = sx.pivots
        why = f"{exc} (after {p['dual']} dual + {p['primal']} primal pivots)"
        return RepairOutcome("failed", pivots=p, message=why, seconds=time.perf_counter() - start)
    z = sx.x[: sx.N].copy()
    if state == "unbounded":
        ray = vec[: sx.N]
        ok = model.check_ray(ray).ok and model.check_primal(z).ok
        return RepairOutcome(
            "unbounded" if ok else "failed", z=z if ok else None, ray=ray if ok else None, pivots=sx.pivots,
            message=_msg(notes, sx) if ok else "the exact ray failed its check", seconds=time.perf_counter() - start,
        )
    lam = -vec
    chk = model.check_optimality(z, lam)
    if not chk.ok:  # pragma: no cover - the simplex invariants imply the check
        return RepairOutcome("failed", pivots=sx.pivots, message="; ".join(chk.failures),
                             seconds=time.perf_counter() - start)
    return RepairOutcome("optimal", z=z, lam=lam, pivots=sx.pivots, message=_msg(notes, sx),
                         seconds=time.perf_counter() - start)


def _farkas_outcome(model: ExactModel, rho: np.ndarray, sx: ExactSimplex, notes: list[str], start: float):
    for y in (rho, -rho):
        if model.check_farkas(y).ok:
            top = max(abs(v) for v in y[nonzero_mask(y)])
            return RepairOutcome("infeasible", farkas=y / top, pivots=sx.pivots, message=_msg(notes, sx),
                                 seconds=time.perf_counter() - start)
    return RepairOutcome("failed", pivots=sx.pivots,  # pragma: no cover - the ratio test implies the check
                         message="the dual simplex row failed the exact Farkas check",
                         seconds=time.perf_counter() - start)


def _msg(notes: list[str], sx: ExactSimplex) -> str:
    p = sx.pivots
    rule = "Bland" if p["bland"] else "Dantzig"
    return (f"exact simplex repair {notes[0]}: {p['dual']} dual + {p['primal']} primal pivots, "
            f"{p['flips']} bound flips, {p['shifted']} shifted costs ({rule} rule)")


def highs_basis(lp):
    """A basis from HiGHS re-solving ``lp`` without presolve (whatever the status), or None."""
    from ..backends.highs import build_highs

    h = build_highs(lp)
    h.setOptionValue("presolve", "off")
    h.run()
    b = h.getBasis()
    return b if getattr(b, "valid", False) else None
