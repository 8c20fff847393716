"""The exact LP a certificate speaks about, with its readable row and column names.

The LP (see :mod:`mechopt.compile`) is::

    maximize  c·z + offset
    s.t.      A_r z ≥ b_r   (inequality rows)      A_r z = b_r   (equality rows)
              lb_j ≤ z_j ≤ ub_j                     (None = infinite)

Everything in this module is exact (Fractions); the three checks below are the
whole of what "verified" means.

* **Farkas** (infeasibility): weights y with ``y_r ≥ 0`` on inequality rows.
  Adding the rows with these weights gives ``gᵀz ≥ yᵀb`` with ``g = Aᵀy``,
  valid for every feasible z.  Over the bounds, ``gᵀz ≤ Σ_j sup_{lb_j≤z_j≤ub_j}
  g_j z_j =: β`` (finite only if ``g_j = 0`` on free columns, ``g_j ≤ 0`` on
  columns bounded below only, ``g_j ≥ 0`` on columns bounded above only).  So
  ``yᵀb > β`` is a contradiction: no feasible z.  With the usual bounds
  (x ≥ 0, everything else free) β = 0 and this reads ``0 ≥ gᵀz ≥ yᵀb > 0``.
* **Optimality**: a primal z (every row and bound holds) and a dual λ with
  ``λ_r ≥ 0`` on inequality rows.  For feasible z', ``c·z' ≤ c·z' + λᵀ(Az' − b)
  = dᵀz' − λᵀb ≤ β(d) − λᵀb`` with ``d = c + Aᵀλ``; so the dual bound
  ``offset + β(d) − λᵀb`` is an upper bound, and if it equals ``c·z + offset``
  then z is optimal and the value is exact.
* **Unboundedness**: a feasible z and a direction d with ``A_r d ≥ 0``
  (inequality rows), ``A_r d = 0`` (equality rows), ``d_j ≥ 0`` where lb_j is
  finite, ``d_j ≤ 0`` where ub_j is finite, and ``c·d > 0``: z + t·d is
  feasible for every t ≥ 0 and its value grows without bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from .linalg import ZERO, ExactMatrix, dot, fractions, nonzero_mask, zeros


def _bounds(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for k, v in enumerate(values):
        out[k] = None if v is None else (v if isinstance(v, Fraction) else Fraction(v))
    return out


@dataclass
class Check:
    """Outcome of an exact check: ``ok`` plus the failed conditions and key numbers."""

    ok: bool
    failures: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok


class ExactModel:
    """Exact data of a compiled LP plus its row and column labels.

    Parameters
    ----------
    lp : LinearProgram
        The float LP that was solved; its exact twin is compiled when
        ``lp.exact`` is missing (same rows, same order — checked).
    """

    def __init__(self, lp) -> None:
        self.lp = lp
        ex = lp.exact if lp.exact is not None else _compile_exact(lp)
        m, N = lp.A.shape
        self.m, self.N = m, N
        self.A = ExactMatrix(ex["rows"], ex["cols"], ex["vals"], (m, N))
        self.rhs = fractions(ex["rhs"])
        self.eq = np.asarray(ex["equality"], dtype=bool)
        self.c = fractions(ex["c"])
        self.offset = Fraction(ex["offset"]) if not isinstance(ex["offset"], Fraction) else ex["offset"]
        self.lb = _bounds(ex["lb"])
        self.ub = _bounds(ex["ub"])
        self._check_twin()
        self.family_names = [f.name for f in lp.families]
        self._starts = np.array([f.start for f in lp.families], dtype=np.int64)
        self._blocks = sorted(lp.column_blocks().items(), key=lambda kv: kv[1][0])

    def _check_twin(self) -> None:
        lp = self.lp
        diff = abs(self.A.to_float() - lp.A)
        scale = max(1.0, float(abs(lp.A).max()) if lp.A.nnz else 1.0)
        if diff.nnz and diff.max() > 1e-9 * scale:
            raise RuntimeError("the exact LP does not match the solved LP (coefficients differ)")
        if not np.allclose(self.rhs.astype(float), lp.rhs, rtol=1e-9, atol=1e-12) or not np.array_equal(
            self.eq, lp.equality
        ):
            raise RuntimeError("the exact LP does not match the solved LP (right-hand sides differ)")

    # ----------------------------------------------------------- bound helpers
    @property
    def lb_finite(self) -> np.ndarray:
        return np.array([v is not None for v in self.lb], dtype=bool)

    @property
    def ub_finite(self) -> np.ndarray:
        return np.array([v is not None for v in self.ub], dtype=bool)

    def sup_term(self, g: np.ndarray) -> tuple[Fraction | None, list[str]]:
        """``Σ_j sup_{lb_j ≤ z_j ≤ ub_j} g_j z_j`` exactly, or None (with reasons) if infinite."""
        total = ZERO
        bad: list[str] = []
        for j in np.flatnonzero(nonzero_mask(g)):
            gj, lo, hi = g[j], self.lb[j], self.ub[j]
            if gj > 0:
                if hi is None:
                    bad.append(self.col_label(j))
                    continue
                total += gj * hi
            else:
                if lo is None:
                    bad.append(self.col_label(j))
                    continue
                total += gj * lo
        return (None if bad else total), bad

    # ----------------------------------------------------------------- checks
    def check_farkas(self, y: np.ndarray) -> Check:
        """Exact Farkas check of full-length row weights ``y`` (object array)."""
        fails: list[str] = []
        neg = [r for r in np.flatnonzero(~self.eq) if y[r] < 0]
        if neg:
            fails.append(f"{len(neg)} inequality rows have negative weight (e.g. {self.row_label(neg[0])})")
        g = self.A.rmatvec(y)
        beta, bad = self.sup_term(g)
        if bad:
            fails.append(
                f"the weighted sum leaves {len(bad)} unbounded variables with nonzero coefficient "
                f"(e.g. {bad[0]})"
            )
        yb = dot(y, self.rhs)
        if beta is not None and not yb > beta:
            fails.append(f"the weighted right-hand side {yb} does not exceed the bound {beta} of the left side")
        return Check(not fails, fails, {"g": g, "yb": yb, "beta": beta})

    def check_primal(self, z: np.ndarray) -> Check:
        fails: list[str] = []
        Az = self.A.matvec(z)
        slack = Az - self.rhs
        bad_eq = [r for r in np.flatnonzero(self.eq) if slack[r] != 0]
        bad_in = [r for r in np.flatnonzero(~self.eq) if slack[r] < 0]
        if bad_eq:
            fails.append(f"{len(bad_eq)} equality rows fail (e.g. {self.row_label(bad_eq[0])})")
        if bad_in:
            fails.append(f"{len(bad_in)} inequality rows fail (e.g. {self.row_label(bad_in[0])})")
        lo = [j for j in range(self.N) if self.lb[j] is not None and z[j] < self.lb[j]]
        hi = [j for j in range(self.N) if self.ub[j] is not None and z[j] > self.ub[j]]
        if lo or hi:
            fails.append(f"{len(lo) + len(hi)} variables are outside their bounds")
        return Check(not fails, fails, {"value": dot(self.c, z) + self.offset})

    def check_dual(self, lam: np.ndarray) -> Check:
        """Dual feasibility of λ and the resulting upper bound on the optimum."""
        fails: list[str] = []
        neg = [r for r in np.flatnonzero(~self.eq) if lam[r] < 0]
        if neg:
            fails.append(f"{len(neg)} inequality rows have negative dual (e.g. {self.row_label(neg[0])})")
        d = self.c + self.A.rmatvec(lam)
        beta, bad = self.sup_term(d)
        if bad:
            fails.append(f"{len(bad)} unbounded variables have nonzero reduced cost (e.g. {bad[0]})")
        bound = None if beta is None else self.offset + beta - dot(lam, self.rhs)
        return Check(not fails, fails, {"bound": bound, "reduced": d})

    def check_optimality(self, z: np.ndarray, lam: np.ndarray) -> Check:
        p, d = self.check_primal(z), self.check_dual(lam)
        fails = [f"primal: {f}" for f in p.failures] + [f"dual: {f}" for f in d.failures]
        value, bound = p.numbers["value"], d.numbers["bound"]
        if bound is not None and value != bound:
            fails.append(f"primal value {value} differs from the dual bound {bound}")
        return Check(not fails, fails, {"value": value, "bound": bound})

    def check_ray(self, d: np.ndarray) -> Check:
        fails: list[str] = []
        Ad = self.A.matvec(d)
        bad_eq = [r for r in np.flatnonzero(self.eq) if Ad[r] != 0]
        bad_in = [r for r in np.flatnonzero(~self.eq) if Ad[r] < 0]
        if bad_eq or bad_in:
            r0 = (bad_eq + bad_in)[0]
            fails.append(f"the direction breaks {len(bad_eq) + len(bad_in)} rows (e.g. {self.row_label(r0)})")
        out = [j for j in np.flatnonzero(nonzero_mask(d))
               if (d[j] < 0 and self.lb[j] is not None) or (d[j] > 0 and self.ub[j] is not None)]
        if out:
            fails.append(f"the direction leaves the bounds of {len(out)} variables (e.g. {self.col_label(out[0])})")
        gain = dot(d, self.c)
        if not gain > 0:
            fails.append(f"the objective does not increase along the direction (c·d = {gain})")
        return Check(not fails, fails, {"gain": gain})

    # ----------------------------------------------------------------- labels
    def row_family(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Family name and row-within-family of global rows."""
        rows = np.asarray(rows, dtype=np.int64)
        k = np.searchsorted(self._starts, rows, side="right") - 1
        names = np.array(self.family_names, dtype=object)[k]
        return names, rows - self._starts[k]

    def row_index(self, family: str, local: int) -> int:
        return int(self.lp.family(family).start + int(local))

    def row_label(self, r: int) -> str:
        names, local = self.row_family(np.array([r]))
        return f"{names[0]}[{self.row_labels(names[0], local)[0]}]"

    def row_labels(self, family: str, local: np.ndarray) -> list[str]:
        """Readable labels of some rows of one family."""
        if family == "lottery" and self.lp.plan.counts:  # type-count LP: one lottery per count vector
            return [f"at counts {self.counts_text(int(m))}" for m in np.asarray(local, dtype=np.int64)]
        df = self.lp.labels(family).iloc[np.asarray(local, dtype=np.int64)]
        exact = self._exact_types()
        agents = set(self.lp.design.env.names)

        def typ(agent, v) -> str:
            return exact.get(agent, {}).get(_key(v), _num(v))

        out = []
        for rec in df.to_dict("records"):
            parts = []
            agent = rec.get("agent")
            if agent is not None:
                parts.append(str(agent))
            if rec.get("type") is not None:
                parts.append(f"type {typ(agent, rec['type'])}")
            if rec.get("report") is not None:
                parts.append(f"reports {typ(agent, rec['report'])}")
            if rec.get("group") is not None:
                parts.append(f"[{rec['group']}]")
            if rec.get("item") is not None:  # per-item Border row: its item and each agent's set size
                env = self.lp.design.env
                sets = ", ".join(f"{rec[a.name + ' set']} of {a.name}'s {a.n_types} types" for a in env.agents)
                parts.append(f"item {rec['item']}, sets of {sets}")
            prof = [f"{k}={typ(k, v)}" for k, v in rec.items() if k in agents and v is not None]
            if prof:
                parts.append("at " + ", ".join(prof))
            out.append(" ".join(parts) if parts else "all")
        return out

    def _exact_types(self) -> dict[str, dict]:
        """Per agent: float type label → exact text (``2/3`` rather than ``0.6666666666666666``)."""
        if not hasattr(self, "_exact_type_text"):
            self._exact_type_text = {
                a.name: {_key(lab): _num(ex) for lab, ex in zip(a.type_labels, a.types_exact)}
                for a in self.lp.design.env.agents
            }
        return self._exact_type_text

    def type_text(self, agent_index: int, t: int) -> str:
        a = self.lp.design.env.agents[agent_index]
        return _num(a.types_exact[t])

    def counts_text(self, m: int) -> str:
        """Count vector m of the type-count LP (:mod:`mechopt.compile.counts`) as ``{type: agents}``."""
        cnt = getattr(self.lp, "count_vectors", None)
        if cnt is None:
            from ..compile.counts import count_vectors

            cnt = self.lp.count_vectors = count_vectors(self.lp.layout.n, self.lp.layout.shape[0])
        row = cnt[m]
        return "{" + ", ".join(f"{self.type_text(0, t)}: {int(row[t])}" for t in np.flatnonzero(row)) + "}"

    def col_label(self, j: int) -> str:
        block, text = self.col_labels(np.array([j]))
        return f"{block[0]}[{text[0]}]"

    def col_labels(self, cols: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Block (``x``, ``p``, ``Xbar``, ``Pbar``) and readable label of columns."""
        lay, env = self.lp.layout, self.lp.design.env
        blocks = np.empty(len(cols), dtype=object)
        texts: list[str] = []
        for n, j in enumerate(np.asarray(cols, dtype=np.int64)):
            name, (a, _) = next((nm, rng) for nm, rng in reversed(self._blocks) if rng[0] <= j)
            k = int(j - a)
            if name == "x":
                s, o = divmod(k, lay.K)
                where = f"counts {self.counts_text(s)}" if self.lp.plan.counts else _profile(env, s)
                texts.append(f"{where}: {env.outcomes[o]}")
                blocks[n] = "allocation"
            elif name == "p":
                s, i = divmod(k, lay.n)
                texts.append(f"{env.names[i]} pays at {_profile(env, s)}")
                blocks[n] = "payment"
            else:
                kind, agent = name.split(":", 1)
                i = env.agent_index(agent)
                if kind == "Xbar":
                    G = len(lay.groups[i])
                    t, g = divmod(k, G)
                    grp = "+".join(env.outcomes[o] for o in lay.groups[i][g])
                    texts.append(f"{agent} type {self.type_text(i, t)} [{grp}]")
                    blocks[n] = "interim allocation"
                elif kind == "C":  # Border reduction: C_i[a] = Σ_{t ≥ a} f_i(t) Q_i(t)
                    texts.append(f"{agent} types ≥ {self.type_text(i, k)}")
                    blocks[n] = "cumulative allocation"
                else:
                    texts.append(f"{agent} type {self.type_text(i, k)}")
                    blocks[n] = "interim payment"
        return blocks, texts


def _num(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (tuple, list, np.ndarray)):
        return "(" + ", ".join(_num(x) for x in v) + ")"
    return str(v)


def _key(v):
    if isinstance(v, (list, np.ndarray)):
        return tuple(_key(x) for x in v)
    if isinstance(v, tuple):
        return tuple(_key(x) for x in v)
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


def _profile(env, s: int) -> str:
    idx = np.unravel_index(int(s), env.shape)
    return ", ".join(f"{a.name}={_num(a.types_exact[t])}" for a, t in zip(env.agents, idx))


def _compile_exact(lp) -> dict:
    from ..compile import compile_design

    options = getattr(lp, "options", None) or {}
    attempts = [options] if options else []
    attempts += [{"reductions": True}, {"reductions": False}]
    for opts in attempts:
        ex = compile_design(lp.design, exact=True, **opts)
        if ex.A.shape == lp.A.shape and np.array_equal(ex.equality, lp.equality):
            return ex.exact
    raise RuntimeError(
        "cannot rebuild the exact twin of this LP (it was changed after compilation, e.g. by "
        "custom cvxpy constraints); certificates need the compiled LP"
    )


def labelled(model: ExactModel, idx: np.ndarray, values: np.ndarray, over: str = "rows") -> pd.Series:
    """Series of exact values indexed by (family, row, label) — or (family, col, label) for columns.

    ``row`` is the row number within its family (as in ``result.duals[family]``);
    ``col`` is the LP column number.
    """
    idx = np.asarray(idx, dtype=np.int64)
    text = np.empty(idx.size, dtype=object)
    if over == "rows":
        fam, local = model.row_family(idx)
        for name in dict.fromkeys(fam):
            mask = fam == name
            text[mask] = model.row_labels(name, local[mask])
        names = ["family", "row", "label"]
    else:
        fam, labels = model.col_labels(idx)
        text[:] = labels
        local = idx
        names = ["family", "col", "label"]
    mi = pd.MultiIndex.from_arrays([fam, local, text], names=names)
    return pd.Series(np.asarray(values, dtype=object), index=mi, name="weight", dtype=object)


__all__ = ["ExactModel", "Check", "labelled", "zeros"]
