"""Exact sparse linear algebra for certificates.

Everything here works on :class:`ExactMatrix`, a sparse matrix whose entries are
:class:`fractions.Fraction` (with a float64 twin for the solver).  Exact answers
are obtained in two sound steps:

1. **guess** — a floating-point solution (from HiGHS or a sparse LU), refined
   by exact residuals, is turned into rationals by continued fractions with a
   shared denominator (:func:`reconstruct`);
2. **check** — the guess is substituted into the exact equations.  Only a
   guess that satisfies them exactly is returned; otherwise a dense exact solve
   (FLINT, Dixon's p-adic method) is used for systems small enough, or the
   caller is told that no exact answer was found (``None``).

So floating point only ever *proposes* numbers; every number that leaves this
module has been checked in exact arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

ZERO = Fraction(0)

#: dense exact solves (FLINT) are attempted up to this many unknowns
DENSE_LIMIT = 1500


def fractions(values: Sequence | np.ndarray) -> np.ndarray:
    """Object array of Fractions (floats converted exactly)."""
    out = np.empty(len(values), dtype=object)
    for k, v in enumerate(values):
        out[k] = v if isinstance(v, Fraction) else Fraction(v)
    return out


def zeros(n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[:] = ZERO
    return out


def nonzero_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the nonzero entries of an object array of Fractions."""
    values = np.asarray(values, dtype=object)
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(values != 0, dtype=bool)


def segment_sum(prods: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Exact sums of consecutive segments ``prods[indptr[k]:indptr[k+1]]`` (object arrays)."""
    n = len(indptr) - 1
    out = zeros(n)
    starts = indptr[:-1]
    nonempty = starts < indptr[1:]
    if prods.size and nonempty.any():
        out[nonempty] = np.add.reduceat(prods, starts[nonempty])
    return out


class ExactMatrix:
    """Sparse matrix with exact (Fraction) entries and a float64 twin.

    Built from COO triplets; duplicates are summed exactly and exact zeros
    dropped.  Internally a CSR matrix stores, as its data, the position + 1 of
    each entry in :attr:`vals`, so scipy's slicing carries exact values along.
    """

    def __init__(self, rows, cols, vals, shape: tuple[int, int], canonical: bool = False) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.asarray(vals, dtype=object)
        if not canonical and rows.size:
            key = rows * shape[1] + cols
            order = np.argsort(key, kind="stable")
            key = key[order]
            first = np.r_[True, key[1:] != key[:-1]]
            starts = np.flatnonzero(first)
            vals = np.add.reduceat(vals[order], starts) if starts.size < key.size else vals[order]
            rows, cols = rows[order][starts], cols[order][starts]
            keep = nonzero_mask(vals)
            rows, cols, vals = rows[keep], cols[keep], vals[keep]
        self.shape = (int(shape[0]), int(shape[1]))
        self.vals = vals
        self.fvals = vals.astype(float) if vals.size else np.zeros(0)
        self.pos = sp.csr_matrix(
            (np.arange(1, vals.size + 1, dtype=float), (rows, cols)), shape=self.shape
        )
        self._csc = None

    @property
    def nnz(self) -> int:
        return int(self.vals.size)

    # ----------------------------------------------------------------- views
    def _from_pos(self, pos: sp.spmatrix) -> ExactMatrix:
        coo = pos.tocoo()
        idx = coo.data.astype(np.int64) - 1
        return ExactMatrix(coo.row, coo.col, self.vals[idx], coo.shape, canonical=True)

    def sub(self, rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> ExactMatrix:
        """Submatrix on the given row and column index arrays (None = all)."""
        pos = self.pos
        if rows is not None:
            pos = pos[np.asarray(rows, dtype=np.int64)]
        if cols is not None:
            pos = pos[:, np.asarray(cols, dtype=np.int64)]
        return self._from_pos(pos)

    def transpose(self) -> ExactMatrix:
        return self._from_pos(self.pos.T)

    @property
    def T(self) -> ExactMatrix:
        return self.transpose()

    def to_float(self) -> sp.csr_matrix:
        m = self.pos.copy()
        m.data = self.fvals[m.data.astype(np.int64) - 1]
        return m

    def coo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, columns and exact values."""
        coo = self.pos.tocoo()
        return coo.row.astype(np.int64), coo.col.astype(np.int64), self.vals[coo.data.astype(np.int64) - 1]

    # ------------------------------------------------------------ arithmetic
    def matvec(self, x: np.ndarray) -> np.ndarray:
        """Exact ``M x`` for an object array ``x`` (zeros of x are skipped)."""
        x = np.asarray(x, dtype=object)
        nz = np.flatnonzero(nonzero_mask(x))
        if nz.size == 0:
            return zeros(self.shape[0])
        pos = self.pos[:, nz] if nz.size < self.shape[1] else self.pos
        pos = pos.tocsr()
        pos.sort_indices()
        idx = pos.data.astype(np.int64) - 1
        xs = x[nz] if nz.size < self.shape[1] else x
        prods = self.vals[idx] * xs[pos.indices]
        return segment_sum(prods, pos.indptr)

    def rmatvec(self, y: np.ndarray) -> np.ndarray:
        """Exact ``yᵀ M`` (as a vector over columns)."""
        y = np.asarray(y, dtype=object)
        nz = np.flatnonzero(nonzero_mask(y))
        if nz.size == 0:
            return zeros(self.shape[1])
        pos = self.pos[nz] if nz.size < self.shape[0] else self.pos
        pos = pos.tocsc()
        pos.sort_indices()
        idx = pos.data.astype(np.int64) - 1
        ys = y[nz] if nz.size < self.shape[0] else y
        prods = self.vals[idx] * ys[pos.indices]
        return segment_sum(prods, pos.indptr)


def dot(a: np.ndarray, b: np.ndarray) -> Fraction:
    """Exact inner product of two object arrays (skipping zeros of ``a``)."""
    nz = np.flatnonzero(nonzero_mask(a))
    if nz.size == 0:
        return ZERO
    return sum(a[nz] * b[nz], ZERO)


# ----------------------------------------------------------------- rational guesses
def reconstruct(x: np.ndarray, max_den: int = 10**12, rel_tol: float = 1e-9) -> np.ndarray | None:
    """Rational numbers close to ``x`` with one shared, small denominator.

    ``x`` holds floats or Fractions.  Each distinct value is approximated by
    continued fractions *after* multiplication by the denominator found so far,
    so a vector whose entries are all multiples of 1/D is found with D itself.
    Returns None when the shared denominator would exceed ``max_den`` or an
    approximation is off by more than ``rel_tol`` (relative to ``max |x|``).
    """
    if isinstance(x, np.ndarray) and x.dtype == np.float64:  # floats: vectorized, no per-entry objects
        fl = x
        x = x.astype(object)
    else:
        x = np.asarray(x, dtype=object)
        fl = x.astype(float)
    if x.size == 0:
        return x
    scale = float(np.abs(fl).max())
    if scale == 0:
        return zeros(x.size)
    tol = rel_tol * scale
    uniq, inverse = np.unique(fl, return_inverse=True)
    # keep an exact representative of each distinct float (first occurrence)
    first = np.zeros(uniq.size, dtype=np.int64)
    first[inverse[::-1]] = np.arange(x.size)[::-1]
    D = 1
    out_u = np.empty(uniq.size, dtype=object)
    for u in range(uniq.size):
        v = x[first[u]]
        if abs(float(v)) <= tol * 1e-3:
            out_u[u] = ZERO
            continue
        v = v if isinstance(v, Fraction) else Fraction(float(v))
        w = v * D
        limit = max(1, max_den // D)
        f = w.limit_denominator(limit)
        if abs(float(f - w)) / D > tol:
            return None
        val = f / D
        out_u[u] = val
        D = D * f.denominator // math.gcd(D, f.denominator)
        if D > max_den:
            return None
    return out_u[inverse]


# ----------------------------------------------------------------- exact solves
class ExactSolver:
    """Solves ``B x = r`` and ``Bᵀ y = r`` exactly for a square exact matrix B.

    1. *quick*: float sparse LU proposes, one or two exact-residual refinements,
       rational reconstruction guesses, exact substitution confirms — enough
       whenever the solution has modest denominators (grids, simple priors);
    2. *peeling*: the sparse structure is block-triangularized by repeatedly
       taking row singletons (solved forward) and column singletons (solved
       backward) in exact arithmetic; the remaining core is solved by float LU
       with many refinements + reconstruction, or by FLINT's exact dense solver
       (Dixon's p-adic lifting) when it has at most :data:`DENSE_LIMIT` unknowns.

    Every returned solution has been substituted back exactly.
    """

    def __init__(self, B: ExactMatrix, prefer_dense: bool = False) -> None:
        if B.shape[0] != B.shape[1]:
            raise ValueError(f"basis matrix is not square: {B.shape}")
        self.B = B
        self.n = B.shape[0]
        self._BT: ExactMatrix | None = None
        self._lu: dict[bool, Any] = {}
        self._plan: dict[bool, Any] = {}
        self._fmpq: dict[bool, Any] = {}
        #: go straight to FLINT's exact dense solver (for data with large denominators)
        self.prefer_dense = prefer_dense and self.n <= DENSE_LIMIT
        self.method: str = ""

    def _matrix(self, transpose: bool) -> ExactMatrix:
        if not transpose:
            return self.B
        if self._BT is None:
            self._BT = self.B.transpose()
        return self._BT

    def solve(self, r: np.ndarray, transpose: bool = False) -> np.ndarray | None:
        r = np.asarray(r, dtype=object)
        if self.n == 0:
            return zeros(0)
        if not nonzero_mask(r).any():
            self.method = "zero right-hand side"
            return zeros(self.n)
        M = self._matrix(transpose)
        if self.prefer_dense:
            x = self._dense_solve(M, r, transpose)
            if x is not None and _equal(M.matvec(x), r):
                self.method = DENSE
                return x
        x = _float_solve(M, r, max_refine=2, cache=self._lu, key=transpose)
        if x is not None:
            self.method = QUICK
            return x
        if transpose not in self._plan:
            self._plan[transpose] = _peel(M)
        x, how = _peel_solve(M, self._plan[transpose], r)
        if x is not None and _equal(M.matvec(x), r):
            self.method = how
            return x
        return None


    def _dense_solve(self, M: ExactMatrix, r: np.ndarray, transpose: bool) -> np.ndarray | None:
        """FLINT exact dense solve with the fmpq matrix cached per orientation."""
        import flint

        A = self._fmpq.get(transpose)
        if A is None:
            rows, cols, vals = M.coo()
            entries = [flint.fmpq(0)] * (self.n * self.n)
            for i, j, v in zip(rows.tolist(), cols.tolist(), vals):
                entries[i * self.n + j] = flint.fmpq(v.numerator, v.denominator)
            A = self._fmpq[transpose] = flint.fmpq_mat(self.n, self.n, entries)
        b = flint.fmpq_mat(self.n, 1, [flint.fmpq(v.numerator, v.denominator) for v in r])
        try:
            X = A.solve(b)
        except ZeroDivisionError:
            return None
        return np.array([Fraction(int(X[k, 0].p), int(X[k, 0].q)) for k in range(self.n)], dtype=object)


QUICK = "float LU + rational reconstruction"
DENSE = "exact dense solve (FLINT)"


def _float_solve(M: ExactMatrix, r: np.ndarray, max_refine: int, cache: dict | None = None,
                 key: Any = None) -> np.ndarray | None:
    """Float LU + exact-residual refinement + rational reconstruction, checked exactly."""
    n = M.shape[0]
    lu = None if cache is None else cache.get(key)
    if lu is None:
        try:
            lu = spla.splu(M.to_float().tocsc(), permc_spec="COLAMD")
        except RuntimeError:  # singular in floating point
            return None
        if cache is not None:
            cache[key] = lu
    x = zeros(n)
    res = r
    for it in range(max_refine + 1):
        dx = lu.solve(res.astype(float))
        if not np.all(np.isfinite(dx)):
            return None
        if it == 0:  # the first guess straight from the floats (no per-entry Fractions yet)
            guess = reconstruct(dx, max_den=10**9)
            if guess is not None and _equal(M.matvec(guess), r):
                return guess
        nz = np.flatnonzero(dx)
        x[nz] = x[nz] + fractions(dx[nz])
        guess = reconstruct(x, max_den=10 ** (9 + 7 * it))
        if guess is not None and _equal(M.matvec(guess), r):
            return guess
        res = r - M.matvec(x)
        if not nonzero_mask(res).any():
            return x
    return None


def _dense_solve(M: ExactMatrix, r: np.ndarray) -> np.ndarray | None:
    """FLINT exact dense solve (Dixon), for at most DENSE_LIMIT unknowns."""
    n = M.shape[0]
    if n > DENSE_LIMIT:
        return None
    import flint

    rows, cols, vals = M.coo()
    dense = [[0] * n for _ in range(n)]
    for i, j, v in zip(rows, cols, vals):
        dense[i][j] = flint.fmpq(v.numerator, v.denominator)
    A = flint.fmpq_mat(dense)
    b = flint.fmpq_mat([[flint.fmpq(v.numerator, v.denominator)] for v in r])
    try:
        X = A.solve(b, algorithm="dixon")
    except ZeroDivisionError:
        return None
    out = np.empty(n, dtype=object)
    for k in range(n):
        q = X[k, 0]
        out[k] = Fraction(int(q.p), int(q.q))
    return out


def _peel(M: ExactMatrix) -> dict:
    """Block-triangular structure: forward pivots (row singletons), back pivots
    (column singletons), and the remaining core rows and columns."""
    csr = M.pos.tocsr()
    csc = M.pos.tocsc()
    n = M.shape[0]
    rptr, rind = csr.indptr, csr.indices
    cptr, cind = csc.indptr, csc.indices
    row_cnt = np.diff(rptr).astype(np.int64)
    col_cnt = np.diff(cptr).astype(np.int64)
    row_on = np.ones(n, dtype=bool)
    col_on = np.ones(n, dtype=bool)
    rq = list(np.flatnonzero(row_cnt == 1))
    cq = list(np.flatnonzero(col_cnt == 1))
    forward, back = [], []
    while rq or cq:
        while rq:
            i = rq.pop()
            if not row_on[i] or row_cnt[i] != 1:
                continue
            cols = rind[rptr[i]: rptr[i + 1]]
            j = int(cols[col_on[cols]][0])
            forward.append((int(i), j))
            row_on[i] = False
            col_on[j] = False
            for i2 in cind[cptr[j]: cptr[j + 1]]:
                if row_on[i2]:
                    row_cnt[i2] -= 1
                    if row_cnt[i2] == 1:
                        rq.append(i2)
        if cq:
            j = cq.pop()
            if not col_on[j] or col_cnt[j] != 1:
                continue
            rows = cind[cptr[j]: cptr[j + 1]]
            i = int(rows[row_on[rows]][0])
            back.append((i, int(j)))
            row_on[i] = False
            col_on[j] = False
            for j2 in rind[rptr[i]: rptr[i + 1]]:
                if col_on[j2]:
                    col_cnt[j2] -= 1
                    if col_cnt[j2] == 1:
                        cq.append(j2)
    return {
        "forward": forward, "back": back,
        "core_rows": np.flatnonzero(row_on), "core_cols": np.flatnonzero(col_on),
        "rows": [(rind[rptr[i]: rptr[i + 1]], csr.data[rptr[i]: rptr[i + 1]].astype(np.int64) - 1)
                 for i in range(n)],
    }


def _peel_solve(M: ExactMatrix, plan: dict, r: np.ndarray) -> tuple[np.ndarray | None, str]:
    n = M.shape[0]
    x = zeros(n)
    vals = M.vals
    rows = plan["rows"]

    def pivot(i: int, j: int) -> None:
        cols, pos = rows[i]
        s = r[i]
        a = None
        for k, p in zip(cols, pos):
            if k == j:
                a = vals[p]
            elif x[k] != 0:
                s = s - vals[p] * x[k]
        x[j] = s / a

    for i, j in plan["forward"]:
        pivot(i, j)
    Rc, Cc = plan["core_rows"], plan["core_cols"]
    if Rc.size != Cc.size:
        return None, "structurally singular basis"
    how = f"exact sparse elimination ({len(plan['forward']) + len(plan['back'])} pivots"
    if Rc.size:
        known = x.copy()
        known[Cc] = Fraction(0)
        rhs_c = r[Rc] - M.sub(rows=Rc).matvec(known)
        core = M.sub(rows=Rc, cols=Cc)
        xc = _float_solve(core, rhs_c, max_refine=12)
        if xc is None:
            xc = _dense_solve(core, rhs_c)
            how += f", exact dense core of {Rc.size} (FLINT)"
        else:
            how += f", core of {Rc.size} by refined float LU + reconstruction"
        if xc is None:
            return None, f"core of {Rc.size} unknowns not solved exactly"
        x[Cc] = xc
    for i, j in reversed(plan["back"]):
        pivot(i, j)
    return x, how + ")"


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Exact elementwise equality of two object arrays (no Fraction arithmetic)."""
    return bool(np.all(np.asarray(a, dtype=object) == np.asarray(b, dtype=object)))


def _all_zero(v: np.ndarray) -> bool:
    return not nonzero_mask(v).any()
