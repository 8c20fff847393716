"""The :class:`Certificate` object: exact weights, an exact check, and explanations."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from .linalg import fractions, nonzero_mask, zeros
from .model import Check, ExactModel, labelled

KINDS = ("infeasibility", "optimality", "unboundedness")


class Certificate:
    """An exact proof about a design's LP.

    ``kind`` is ``"infeasibility"`` (Farkas weights on rows: adding the
    constraints with these weights reads ``0 ≥ positive``), ``"optimality"``
    (an exact primal mechanism and exact dual weights with equal objectives) or
    ``"unboundedness"`` (an exact feasible point and an improving direction).

    Attributes
    ----------
    kind : str
    weights : pandas.Series
        Exact weights (Fractions), nonzero only, indexed by
        ``(family, row, label)``: the family, the row number within the family
        (as in ``result.duals[family]``) and a readable label.  Infeasibility:
        the Farkas multipliers (normalized to max |weight| = 1); optimality: the
        dual λ; unboundedness: the direction over LP columns, indexed by
        ``(family, col, label)`` where the family is the variable block.
    exact : bool
        The certificate is an exact proof: rational numbers on the exact model
        data (the LP compiled from Fractions) that passed the check in rational
        arithmetic.  False when no exact certificate could be built, when the
        model's exact twin is missing, or when the exact check fails (e.g. after
        the public :attr:`weights` were edited).
    objective : Fraction or None
        Optimality: the exact optimal value.
    method : str
        How the certificate was obtained.
    build_seconds : float
    """

    def __init__(
        self,
        kind: str,
        model: ExactModel | None,
        *,
        y: np.ndarray | None = None,
        z: np.ndarray | None = None,
        direction: np.ndarray | None = None,
        exact: bool = True,
        method: str = "",
        notes: list[str] | None = None,
        build_seconds: float = 0.0,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.kind = kind
        self.model = model
        self._y = y  # row weights: Farkas multipliers or dual λ
        self._z = z  # primal point (optimality, unboundedness)
        self._d = direction  # primal direction (unboundedness)
        self._exact_numbers = bool(exact and model is not None and (y is not None or direction is not None))
        self.method = method
        self.notes = list(notes or [])
        self.build_seconds = build_seconds
        self.verify_seconds: float | None = None
        self._verified: bool | None = None
        self._verified_for: int | None = None  # fingerprint of the weights that were verified
        self._check: Check | None = None
        self._weights: pd.Series | None = None

    @property
    def exact(self) -> bool:
        """An exact proof: exact rationals on the exact model data that pass the exact check."""
        return self._exact_numbers and self.verified

    # ------------------------------------------------------------------ data
    @property
    def design(self):
        return None if self.model is None else self.model.lp.design

    @property
    def _vector(self) -> np.ndarray | None:
        return self._d if self.kind == "unboundedness" else self._y

    @property
    def weights(self) -> pd.Series:
        if self._weights is None:
            v = self._vector
            if v is None or self.model is None:
                mi = pd.MultiIndex.from_arrays([[], [], []], names=["family", "row", "label"])
                self._weights = pd.Series([], index=mi, dtype=object, name="weight")
            else:
                idx = np.flatnonzero(nonzero_mask(v))
                over = "cols" if self.kind == "unboundedness" else "rows"
                self._weights = labelled(self.model, idx, v[idx], over=over)
        return self._weights

    @weights.setter
    def weights(self, value: pd.Series) -> None:
        """Replace the public weights (indexed like :attr:`weights`); :meth:`verify` checks these."""
        if not isinstance(value, pd.Series):
            raise TypeError("certificate weights must be a pandas Series indexed like certificate.weights")
        self._weights = value
        self._verified = None

    def _fingerprint(self) -> int:
        w = self.weights
        return hash((tuple(w.index), tuple(w.to_numpy().tolist())))

    @property
    def objective(self) -> Fraction | None:
        """Optimality: the exact value ``c·z + offset`` of the certified mechanism (None otherwise).

        It is the proven optimum exactly when :attr:`verified` is True.
        """
        if self.kind != "optimality" or self._z is None or self.model is None:
            return None
        from .linalg import dot

        return dot(self.model.c, self._z) + self.model.offset

    @property
    def primal(self) -> pd.Series | None:
        """Exact primal point (optimality, unboundedness) over LP columns, nonzeros only."""
        if self._z is None or self.model is None:
            return None
        idx = np.flatnonzero(nonzero_mask(self._z))
        return labelled(self.model, idx, self._z[idx], over="cols")

    @property
    def size(self) -> dict[str, int]:
        """Rows (or columns) in the support and nonzeros of the LP they touch."""
        v = self._vector
        if v is None or self.model is None:
            return {"support": 0, "nnz": 0}
        idx = np.flatnonzero(nonzero_mask(v))
        A = self.model.A
        sub = A.pos[:, idx] if self.kind == "unboundedness" else A.pos[idx]
        return {"support": int(idx.size), "nnz": int(sub.nnz)}

    # ----------------------------------------------------------------- verify
    def check(self, exact: bool = True, weights: Any = None) -> Check:
        """Run the check and return its details (``ok``, ``failures``, numbers)."""
        if self.model is None or self._vector is None:
            return Check(False, ["no certificate could be constructed"] + self.notes)
        # the public table is what is checked: edits to ``weights`` count
        v = self._weights_vector(self.weights if weights is None else weights)
        if not exact:
            return self._float_check(v)
        M = self.model
        if self.kind == "infeasibility":
            return M.check_farkas(v)
        if self.kind == "optimality":
            primal = M.check_primal(self._z)
            dual = M.check_dual(v)
            fails = [f"primal: {f}" for f in primal.failures] + [f"dual: {f}" for f in dual.failures]
            value, bound = primal.numbers["value"], dual.numbers["bound"]
            if bound is not None and value != bound:
                fails.append(f"primal value {value} differs from the dual bound {bound}")
            return Check(not fails, fails, {"value": value, "bound": bound})
        ray = M.check_ray(v)
        fails = list(ray.failures)
        if self._z is None:
            fails.append("no exact feasible point")
        else:
            fails += [f"point: {f}" for f in M.check_primal(self._z).failures]
        return Check(not fails, fails, ray.numbers)

    def verify(self, exact: bool = True, weights: Any = None) -> bool:
        """Check the certificate; exact rational arithmetic unless ``exact=False``.

        Parameters
        ----------
        exact : bool
            Exact check on the exact model data (default); ``False`` checks in
            floating point with tolerance 1e-9.
        weights : pandas.Series or array, optional
            Check these weights instead of the certificate's own public
            :attr:`weights` table (a Series indexed like :attr:`weights` —
            missing rows count as 0 — or a full-length vector in LP order).
            Floats are taken exactly.

        Returns
        -------
        bool
            True when the weights (and, for optimality, the primal point) prove
            the certificate's claim.
        """
        import time

        start = time.perf_counter()
        ok = bool(self.check(exact=exact, weights=weights).ok)
        if weights is None and exact:
            self._verified = ok
            self._verified_for = self._fingerprint()
            self.verify_seconds = time.perf_counter() - start
        return ok

    @property
    def verified(self) -> bool:
        """Exact verification of the current public weights (re-checked when they change)."""
        if self._verified is None or (self._vector is not None and self._verified_for != self._fingerprint()):
            self.verify(exact=True)
        return bool(self._verified)

    def _weights_vector(self, weights: Any) -> np.ndarray:
        M = self.model
        n = M.N if self.kind == "unboundedness" else M.m
        if isinstance(weights, pd.Series):
            out = zeros(n)
            if weights.empty:
                return out
            names = weights.index.names
            if self.kind == "unboundedness":
                key = "col" if "col" in names else None
                if key is None:
                    raise ValueError("weights need a 'col' index level (as in certificate.weights)")
                pos = weights.index.get_level_values(key).to_numpy(dtype=np.int64)
            else:
                if "family" not in names or "row" not in names:
                    raise ValueError("weights need 'family' and 'row' index levels (as in certificate.weights)")
                fam = weights.index.get_level_values("family")
                loc = weights.index.get_level_values("row").to_numpy(dtype=np.int64)
                pos = np.array([M.row_index(f, r) for f, r in zip(fam, loc)], dtype=np.int64)
            vals = fractions([_exact(v) for v in weights.to_numpy()])
            for p, v in zip(pos, vals):
                out[p] = out[p] + v
            return out
        arr = np.asarray(weights, dtype=object).reshape(-1)
        if arr.size != n:
            raise ValueError(f"weights must have length {n}, got {arr.size}")
        return fractions([_exact(v) for v in arr])

    def _float_check(self, v: np.ndarray) -> Check:
        M = self.model
        A = M.lp.A
        vf = np.asarray([float(x) for x in v])
        tol = 1e-9 * max(1.0, float(np.abs(vf).max()) if vf.size else 1.0)
        fails: list[str] = []
        lbf, ubf = M.lb_finite, M.ub_finite
        lb = np.array([0.0 if x is None else float(x) for x in M.lb])
        ub = np.array([0.0 if x is None else float(x) for x in M.ub])
        if self.kind in ("infeasibility", "optimality"):
            if (vf[~M.eq] < -tol).any():
                fails.append("negative weight on an inequality row")
            g = A.T @ vf + (M.lp.c if self.kind == "optimality" else 0.0)
            if (np.abs(g[~lbf & ~ubf]) > tol).any() or (g[lbf & ~ubf] > tol).any() or (g[ubf & ~lbf] < -tol).any():
                fails.append("combined coefficients incompatible with the bounds")
            terms = np.where(g > 0, g * ub, g * lb)[lbf | ubf]
            beta = float(np.sum(terms))
            if self.kind == "infeasibility":
                # relative to the size of the terms (money in units of 1e-9 makes the whole gap ~1e-10)
                size = float(np.abs(vf * M.lp.rhs).sum() + np.abs(terms).sum())
                if not vf @ M.lp.rhs - beta > 1e-9 * size:
                    fails.append("weighted right-hand side is not positive")
            else:
                z = np.asarray([float(x) for x in self._z])
                value = M.lp.c @ z + M.lp.offset
                bound = M.lp.offset + beta - vf @ M.lp.rhs
                s = A @ z - M.lp.rhs
                if (np.abs(s[M.eq]) > tol).any() or (s[~M.eq] < -tol).any():
                    fails.append("primal infeasible")
                if abs(value - bound) > tol * max(1.0, abs(value)):
                    fails.append("primal and dual objectives differ")
        else:
            Ad = A @ vf
            if (np.abs(Ad[M.eq]) > tol).any() or (Ad[~M.eq] < -tol).any():
                fails.append("direction breaks a row")
            if (vf[lbf] < -tol).any() or (vf[ubf] > tol).any():
                fails.append("direction leaves the bounds")
            if not M.lp.c @ vf > tol:
                fails.append("objective does not increase")
        return Check(not fails, fails)

    # ---------------------------------------------------------------- explain
    @property
    def weight_by_family(self) -> dict[str, float]:
        """Share of the total |weight| carried by each family (sums to 1)."""
        w = self.weights
        if w.empty:
            return {}
        absw = w.map(lambda v: abs(float(v))).astype(float)
        tot = absw.groupby(level="family", sort=False).sum()
        total = float(tot.sum())
        return {str(k): float(v / total) for k, v in tot.items()} if total > 0 else {}

    def explain(self, text: bool = False, by: str | None = None,
                bookkeeping: str = "aggregate") -> pd.DataFrame | str:
        """The weighted rows, economic families first (ic, ir, budget, efficiency, user).

        Parameters
        ----------
        text : bool
            Return the plain-text derivation instead (see :meth:`derivation`).
        by : {"family"}, optional
            One summary line per family: rows, total |weight|, share, the
            family's contribution to the weighted right-hand side, and ``kind``
            (economic or bookkeeping).
        bookkeeping : {"aggregate", "rows", "hide"}
            Bookkeeping families (lottery, interim, cumulative, border) summed into
            one line each (row −1; default), listed row by row, or left out.

        Returns
        -------
        DataFrame indexed by (family, row) with ``label``, ``weight`` (exact),
        ``value`` (float), ``share`` (of the total |weight|), ``rhs`` (the row's
        right-hand side; absent for unboundedness), ``sense``, ``contribution``.
        See :mod:`mechopt.certificates.presentation`.
        """
        from . import presentation

        return presentation.explain(self, text=text, by=by, bookkeeping=bookkeeping)

    def derivation(self, max_rows: int = 20) -> str:
        """Plain-text account of why the certificate proves its claim (economic rows first)."""
        from . import presentation

        return presentation.derivation(self, max_rows)

    def to_latex(self, max_rows: int = 30) -> str:
        """LaTeX: the economic rows (first ``max_rows``), one line per bookkeeping family, and the
        resulting inequality."""
        from . import presentation

        return presentation.to_latex(self, max_rows)

    def plot(self, kind: str = "family", ax=None, cmap: str = "viridis"):
        """``kind="family"``: share of weight by family (returns the Axes); ``kind="grid"``: the
        weights over a two-agent type grid (returns the Figure)."""
        from . import presentation

        return presentation.plot(self, kind=kind, ax=ax, cmap=cmap)

    def _repr_html_(self) -> str:
        from . import presentation

        return presentation.html(self)

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``certificate`` object: kind, verified, exact, weight_by_family."""
        return {
            "kind": self.kind,
            "verified": bool(self.verified),
            "exact": bool(self.exact),
            "weight_by_family": self.weight_by_family,
        }

    def __repr__(self) -> str:
        s = self.size
        what = "variables" if self.kind == "unboundedness" else "rows"
        extra = f", objective {self.objective}" if self.kind == "optimality" and self._z is not None else ""
        state = "verified" if self._verified else ("not verified" if self._verified is False else "unchecked")
        return f"Certificate({self.kind}, {s['support']} {what}, exact={self._exact_numbers}, {state}{extra})"


def _exact(v: Any) -> Fraction:
    if isinstance(v, Fraction):
        return v
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    return Fraction(float(v))
