"""One HiGHS instance across the rounds of a row-generation loop (``highs.solve(lp, warm=...)``).

A row-generation round solves an LP that is the previous round's LP with rows
appended at the end (same columns, costs, bounds and earlier rows).  Instead of a
fresh solve, :class:`AppendRows` passes only the new rows to the kept
``highspy.Highs`` (``addRows``): HiGHS keeps its optimal basis (the new rows'
slacks enter it as basic), so dual simplex starts from a dual feasible basis
and usually needs a few hundred pivots instead of a full solve.  A hot start
skips presolve.  Rows are never deleted (``deleteRows`` discards the basis).

HiGHS 1.15 can report "Optimal" after a warm start that is not optimal
(HiGHS issue #3194), so the caller re-checks the final answer (optimality
conditions recomputed from the LP data; see ``pipeline._Run._generate_items``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["AppendRows"]


class AppendRows:
    """Keep one HiGHS instance while each LP appends rows to the previous one.

    :meth:`model` has the interface of :class:`mechopt.sweeps.WarmStart` (the HiGHS
    backend calls it with the scaled model): when the new matrix starts with the
    previous matrix exactly (and costs, column bounds and the earlier rows' bounds
    are unchanged), only the appended rows are added to the kept instance; else a
    fresh instance is built and kept.  ``hot`` says which happened on the last call.
    """

    def __init__(self) -> None:
        self.highs = None
        self._A: sp.csr_matrix | None = None
        self._key: tuple | None = None
        self._rows: tuple[np.ndarray, np.ndarray] | None = None
        self.hot = False
        self.hot_solves = 0
        self.cold_solves = 0

    def _prefix_equal(self, A: sp.csr_matrix, key: tuple, row_lower: np.ndarray, row_upper: np.ndarray) -> bool:
        old = self._A
        if self.highs is None or old is None or A.shape[1] != old.shape[1] or A.shape[0] < old.shape[0]:
            return False
        m = old.shape[0]
        head = A[:m]
        head.sort_indices()
        lo, up = self._rows
        return (
            all(np.array_equal(a, b) for a, b in zip(key, self._key))
            and np.array_equal(head.indptr, old.indptr) and np.array_equal(head.indices, old.indices)
            and np.array_equal(head.data, old.data)
            and np.array_equal(row_lower[:m], lo) and np.array_equal(row_upper[:m], up)
        )

    def model(self, A, cost, col_lower, col_upper, row_lower, row_upper, offset: float, integer,
              verbose: bool = False):
        """The ``highspy.Highs`` to run for ``min cost·z + offset`` s.t. ``row_lower ≤ A z ≤ row_upper``.

        Parameters
        ----------
        A : scipy.sparse matrix, shape (m, N)
            The scaled constraint matrix (rows ``m_prev..m-1`` are the new ones).
        cost, col_lower, col_upper : ndarray, shape (N,)
        row_lower, row_upper : ndarray, shape (m,)
        offset : float
        integer : ndarray of bool, shape (N,)
            Must be all False (a MIP is always built fresh).
        verbose : bool
        """
        import highspy

        from .highs import highs_lp

        A = sp.csr_matrix(A)
        A.sort_indices()
        row_lower = np.asarray(row_lower, dtype=float)
        row_upper = np.asarray(row_upper, dtype=float)
        key = (np.asarray(cost, dtype=float), np.asarray(col_lower, dtype=float),
               np.asarray(col_upper, dtype=float), np.array([float(offset)]))
        if not np.any(integer) and self._prefix_equal(A, key, row_lower, row_upper):
            h = self.highs
            m = self._A.shape[0]
            new = A[m:]
            if new.shape[0]:
                h.addRows(new.shape[0], row_lower[m:], row_upper[m:], new.nnz,
                          new.indptr[:-1].astype(np.int32), new.indices.astype(np.int32), new.data)
            h.setOptionValue("output_flag", bool(verbose))
            self._A, self._rows = A, (row_lower, row_upper)
            self.hot = True
            self.hot_solves += 1
            return h
        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(verbose))
        h.passModel(highs_lp(A, key[0], key[1], key[2], row_lower, row_upper, offset=offset, integer=integer))
        self.highs, self._A, self._key, self._rows = h, A, key, (row_lower, row_upper)
        self.hot = False
        self.cold_solves += 1
        return h

    def reset(self) -> None:
        """Forget the kept instance (the next solve is cold)."""
        self.highs, self._A, self._key, self._rows, self.hot = None, None, None, None, False
