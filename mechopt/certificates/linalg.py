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
    return np.fromiter((v != 0 for v in values), dtype=bool, count=len(values))


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
    x = np.asarray(x, dtype=object)
    if x.size == 0:
        return x
    scale = max(abs(float(v)) for v in x)
    if scale == 0:
        return zeros(x.size)
    tol = rel_tol * scale
    fl = x.astype(float)
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

    Float sparse LU proposes, exact residuals refine, rational reconstruction
    guesses, exact substitution confirms; FLINT's dense exact solver is the
    fallback for systems of at most :data:`DENSE_LIMIT` unknowns.
    """

    def __init__(self, B: ExactMatrix) -> None:
        if B.shape[0] != B.shape[1]:
            raise ValueError(f"basis matrix is not square: {B.shape}")
        self.B = B
        self.n = B.shape[0]
        self._lu = None
        self._BT = None
        self.method: str = ""

    def _factor(self):
        if self._lu is None:
            Bf = self.B.to_float().tocsc()
            self._lu = spla.splu(Bf, permc_spec="COLAMD")
        return self._lu

    def solve(self, r: np.ndarray, transpose: bool = False, max_refine: int = 4) -> np.ndarray | None:
        r = np.asarray(r, dtype=object)
        n = self.n
        if n == 0:
            return zeros(0)
        if not nonzero_mask(r).any():
            return zeros(n)
        M = self.B
        if transpose:
            if self._BT is None:
                self._BT = self.B.transpose()
            M = self._BT
        try:
            lu = self._factor()
        except RuntimeError:  # singular in floating point
            return self._dense(M, r)
        trans = "T" if transpose else "N"
        x = zeros(n)
        res = r
        for it in range(max_refine + 1):
            rf = res.astype(float)
            dx = lu.solve(rf, trans=trans)
            if not np.all(np.isfinite(dx)):
                break
            x = x + fractions(dx)
            guess = reconstruct(x, max_den=10 ** (9 + 6 * it))
            if guess is not None and _all_zero(M.matvec(guess) - r):
                self.method = f"float LU + rational reconstruction ({it} refinements)"
                return guess
            res = r - M.matvec(x)
            if not nonzero_mask(res).any():
                self.method = "float LU (exact in binary)"
                return x
        return self._dense(M, r)

    def _dense(self, M: ExactMatrix, r: np.ndarray) -> np.ndarray | None:
        if self.n > DENSE_LIMIT:
            return None
        import flint

        n = self.n
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
        self.method = "exact dense solve (FLINT, Dixon)"
        return out


def _all_zero(v: np.ndarray) -> bool:
    return not nonzero_mask(v).any()
