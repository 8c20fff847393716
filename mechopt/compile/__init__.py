"""Compile a :class:`~mechopt.design.Design` into one sparse linear program.

The LP is ``maximize c·z + offset`` subject to ``A z ≥ b`` (inequality rows) and
``A z = b`` (equality rows) and column bounds ``lb ≤ z ≤ ub``.  Rows come in
labelled families, in this order:

==========  ================================================================
family      rows
==========  ================================================================
lottery     Σ_k x(s, k) = 1 per profile
efficiency  no weight on inefficient outcomes (``allocation="efficient"``)
interim     definitions of the interim variables X̄_i, P̄_i
cumulative  Border reduction only: C_i[a] = Σ_{t≥a} f_i(t) Q_i(t)
border      Border reduction only: Border's inequalities on upper sets
ic          truth-telling rows (see :mod:`mechopt.compile.ic`)
ir          participation rows (see :mod:`mechopt.compile.ir`)
budget      budget rows (see :mod:`mechopt.compile.budget`)
==========  ================================================================

Every family is built with vectorized numpy (no Python object per row) from
:class:`~mechopt.compile.layout.Data`, in floats or in exact rationals
(``exact=True``: same rows, same labels, Fraction coefficients).

Under the Border reduction (single item, BIC, see :mod:`mechopt.compile.border`)
the LP has no ex post allocation columns and no lottery or interim rows; the
families are then ``cumulative``, ``border``, ``ic``, ``ir``, ``budget``, and
:meth:`LinearProgram.mechanism_arrays` recovers an ex post allocation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..design import Design
from . import border as border_mod
from . import budget, counts, envelope, ic, interim, ir, item_border, items, lottery, symmetry
from .layout import Data, Layout, Rows, value_groups
from .objective import objective_vector
from .plan import Plan, make_plan
from .terms import pairs

__all__ = ["LinearProgram", "Family", "Plan", "compile_design", "make_plan", "value_scale"]

LABEL_KEYS = ("agent", "type", "report", "profile", "group", "threshold", "upper", "item", "setsize")


@dataclass
class Family:
    """A block of consecutive rows ``[start, stop)`` and their labels (integer codes)."""

    name: str
    start: int
    stop: int
    codes: dict[str, np.ndarray]

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass
class LinearProgram:
    """The compiled LP with its labels.

    Attributes
    ----------
    A : scipy.sparse.csr_matrix, shape (m, N)
        Constraint matrix (float64).
    rhs : ndarray, shape (m,)
    equality : ndarray of bool, shape (m,)
        True for ``=`` rows, False for ``≥`` rows.
    c : ndarray, shape (N,)
        Objective (maximized); ``offset`` is added.
    lb, ub : ndarray, shape (N,)
        Column bounds.
    integer : ndarray of bool, shape (N,)
        Integer columns (deterministic designs).
    families : list of Family
    layout : Layout
    reductions : dict
        Reductions used: ``ic`` per agent (``"adjacent"`` or ``"all pairs"``),
        ``payments`` (``"interim"`` or ``"ex_post"``), ``bic`` (``"interim
        variables"`` or ``"conditional beliefs"``), ``allocation``
        (``"interim (Border)"`` or ``"ex post"``; the Border reduction, with
        ``border_reason`` saying why it was or was not used).
    exact : dict or None
        With ``exact=True``: ``rows, cols, vals`` (COO, Fraction values, duplicates
        not summed), ``rhs``, ``c``, ``offset``, ``lb``, ``ub`` as Fractions (None = infinite).
    build_seconds : float
    """

    design: Design
    A: sp.csr_matrix
    rhs: np.ndarray
    equality: np.ndarray
    c: np.ndarray
    offset: float
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    families: list[Family]
    layout: Layout
    reductions: dict[str, Any]
    exact: dict | None = None
    build_seconds: float = 0.0
    recover_seconds: float = 0.0
    plan: Plan = field(default_factory=Plan)
    scale: float = 1.0
    _label_cache: dict = field(default_factory=dict, repr=False)

    @property
    def options(self) -> dict:
        """Keyword arguments of :func:`compile_design` that rebuild this LP (its plan)."""
        return {"plan": self.plan}

    def payment_columns(self) -> np.ndarray:
        """Boolean mask (N,) of the columns in money units (ex post or interim payments)."""
        mask = np.zeros(self.A.shape[1], dtype=bool)
        for name, (a, b) in self.column_blocks().items():
            if name == "p" or name.startswith("Pbar:"):
                mask[a:b] = True
        return mask

    # ------------------------------------------------------------------ sizes
    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape

    @property
    def sizes(self) -> dict[str, Any]:
        """Rows, columns, nonzeros, integer columns, and rows per family."""
        return {
            "rows": self.A.shape[0],
            "cols": self.A.shape[1],
            "nnz": int(self.A.nnz),
            "integer_cols": int(self.integer.sum()),
            "families": {f.name: f.size for f in self.families},
        }

    def family(self, name: str) -> Family:
        for f in self.families:
            if f.name == name:
                return f
        raise KeyError(f"no row family {name!r}; the LP has {[f.name for f in self.families]}")

    # ------------------------------------------------------------------ labels
    def labels(self, name: str) -> pd.DataFrame:
        """Readable labels of a family's rows: agent names, type values, reports, profiles.

        Columns present depend on the family: ``agent``, ``type``, ``report``
        (type values of the true type and the report), ``group`` (outcomes of a
        value group, or ``"payment"``) and one column per agent name giving the
        row's profile.  The index is the row number within the family.
        """
        if name in self._label_cache:
            return self._label_cache[name]
        f = self.family(name)
        env = self.design.env
        df = pd.DataFrame(index=pd.RangeIndex(f.size, name="row"))
        ag = f.codes.get("agent")
        if ag is not None and (ag >= 0).any():
            names = np.array(env.names, dtype=object)
            df["agent"] = names[ag]
            for key in ("type", "report"):
                code = f.codes.get(key)
                if code is not None and (code >= 0).any():
                    df[key] = _type_values(env, ag, code)
            grp = f.codes.get("group")
            if grp is not None:
                df["group"] = [
                    "payment" if g < 0 else "+".join(env.outcomes[k] for k in self.layout.groups[a][g])
                    for a, g in zip(ag, grp)
                ]
        prof = f.codes.get("profile")
        if prof is not None and (prof >= 0).any():
            idx = np.unravel_index(np.where(prof >= 0, prof, 0), env.shape)
            for j, a in enumerate(env.agents):
                labels = np.array(a.type_labels + [None], dtype=object)
                df[a.name] = labels[np.where(prof >= 0, idx[j], -1)]
        thr = f.codes.get("threshold")
        if thr is not None and (thr >= 0).any():
            # Border row: agent column = lowest type of its upper set, None = empty set
            idx = np.unravel_index(np.where(thr >= 0, thr, 0), tuple(T + 1 for T in env.shape))
            for j, a in enumerate(env.agents):
                labels = np.array(a.type_labels + [None], dtype=object)
                df[a.name] = labels[np.where(thr >= 0, idx[j], -1)]
        item = f.codes.get("item")
        if item is not None and (item >= 0).any():
            # per-item Border row (mechopt.compile.item_border): the item (1-based) it bounds
            df["item"] = np.where(item >= 0, item + 1, 0)
        size = f.codes.get("setsize")
        if size is not None and (size >= 0).any():
            # per-item Border row: how many of each agent's types its set holds
            idx = np.unravel_index(np.where(size >= 0, size, 0), tuple(T + 1 for T in env.shape))
            for j, a in enumerate(env.agents):
                df[f"{a.name} set"] = idx[j]
        up = f.codes.get("upper")
        if up is not None and (up >= 0).any():
            # symmetric Border row (mechopt.compile.symmetry): every bidder's upper set starts at this type
            for a in env.agents:
                df[a.name] = np.array(a.type_labels + [None], dtype=object)[up]
        self._label_cache[name] = df
        return df

    def column_blocks(self) -> dict[str, tuple[int, int]]:
        """Column ranges: ``x``, ``p`` (ex post payments), ``Xbar:<agent>``, ``Pbar:<agent>``
        and, under the Border reduction, ``C:<agent>`` (no ``x``)."""
        lay, env = self.layout, self.design.env
        out = {"x": (lay.x0, lay.x0 + lay.n_x)} if lay.ex_post_x else {}
        if not lay.interim_payments:
            out["p"] = (lay.p0, lay.p0 + lay.S * lay.n)
        for i, name in enumerate(env.names):
            if i in lay.X0:
                out[f"Xbar:{name}"] = (lay.X0[i], lay.X0[i] + lay.shape[i] * len(lay.groups[i]))
            if i in lay.P0:
                out[f"Pbar:{name}"] = (lay.P0[i], lay.P0[i] + lay.shape[i])
            if i in lay.C0:
                out[f"C:{name}"] = (lay.C0[i], lay.C0[i] + lay.shape[i])
        return out

    def payments(self, z: np.ndarray) -> np.ndarray:
        """Ex post payments ``(S, n)`` from a solution vector (interim payments broadcast)."""
        lay = self.layout
        p = np.empty((lay.S, lay.n))
        for i in range(lay.n):
            p[:, i] = z[lay.pcol(np.arange(lay.S), i)]
        return p

    def allocation(self, z: np.ndarray) -> np.ndarray | None:
        """Ex post allocation ``(S, K)`` from a solution vector; None under a reduced form
        (the pipeline's recover stage, :mod:`mechopt.recover`, rebuilds it)."""
        lay = self.layout
        if not lay.ex_post_x:
            return None
        return z[lay.x0: lay.x0 + lay.S * lay.K].reshape(lay.S, lay.K)

    def __repr__(self) -> str:
        s = self.sizes
        fam = ", ".join(f"{k}={v}" for k, v in s["families"].items())
        return f"LinearProgram({s['rows']} rows x {s['cols']} cols, nnz={s['nnz']}; {fam})"


def _type_values(env, agent_codes: np.ndarray, type_codes: np.ndarray) -> np.ndarray:
    out = np.empty(agent_codes.size, dtype=object)
    for i, a in enumerate(env.agents):
        mask = (agent_codes == i) & (type_codes >= 0)
        labels = np.array(a.type_labels + [None], dtype=object)
        out[mask] = labels[type_codes[mask]]
    return out


def value_scale(design: Design) -> float:
    """The problem's money unit: the power of two nearest the largest |value|, |cost|, |outside option|.

    Values, costs, outside options and payments are all in this unit; the HiGHS
    backend divides money columns and rows by it (exactly, being a power of two)
    so that the LP it solves has O(1) data whatever units the user chose.
    """
    env = design.env
    big = max(
        [float(np.abs(V).max()) if V.size else 0.0 for V in env.values]
        + [float(np.abs(env.cost).max()) if env.cost.size else 0.0]
        + [float(np.abs(U).max()) if U.size else 0.0 for U in env.outside]
    )
    if not np.isfinite(big) or big == 0.0:
        return 1.0
    return float(2.0 ** np.round(np.log2(big)))


def compile_design(
    design: Design, exact: bool = False, reductions: bool = True, ic_pairs: dict | None = None,
    border: bool | None = None, plan: Plan | None = None,
) -> LinearProgram:
    """Build the LP of a design.

    Parameters
    ----------
    design : Design
    exact : bool
        Also keep the exact (Fraction) coefficients in ``LinearProgram.exact``.
    reductions : bool
        Allow the reductions (all exact: they never change the optimum; turn off
        to get the plain formulation).
    ic_pairs : dict, optional
        ``{agent index: (t, s)}``: write only these (true type, report) IC pairs
        for that agent (used by IC row generation; the LP is then a relaxation).
    border : bool, optional
        The Border reduction (:mod:`mechopt.compile.border`): ``None`` (default)
        uses it where it provably applies and the grid is not too small;
        ``True`` requires it (error if it does not apply); ``False`` never.
    plan : Plan, optional
        A formulation decided before (``lp.plan``); overrides the three options above.
        ``compile_design(lp.design, exact=True, plan=lp.plan)`` is ``lp``'s exact twin.
    """
    start = time.perf_counter()
    if plan is None:
        # the per-item reduced form is only ever a relaxation until its rows are generated (the
        # pipeline passes its plans explicitly): a design's own LP does not use it
        plan = make_plan(design, reductions=reductions, border=border, ic_pairs=ic_pairs, disabled=("item_border",))
    if plan.item_symmetric:  # one buyer, interchangeable items (mechopt.compile.items)
        return _compile_items(design, plan, exact, start)
    if plan.counts:  # identical agents, common outcomes: type counts (mechopt.compile.counts)
        return _compile_counts(design, plan, exact, start)
    if plan.item_border:  # several agents, additive items: per-item reduced forms (mechopt.compile.item_border)
        return _compile_item_border(design, plan, exact, start)
    sym = plan.symmetric  # identical bidders: one interim rule (mechopt.compile.symmetry)
    env_f = plan.payments == "envelope"  # DSIC single item: x only (mechopt.compile.envelope)
    lay = symmetry.layout(design) if sym else envelope.layout(design) if env_f else _layout(design, plan)
    data = symmetry.data(design, False) if sym else Data.of(design, exact=False)
    blocks = (symmetry.build_rows(design, lay, data) if sym else envelope.build_rows(design, lay, data) if env_f
              else _build_rows(design, lay, plan, data))
    c, offset = (symmetry.objective_vector if sym else envelope.objective_vector if env_f
                 else objective_vector)(design, lay, data)
    A, rhs, eq, families = _assemble(blocks, lay.n_cols)
    N = lay.n_cols
    lb = np.full(N, -np.inf)
    ub = np.full(N, np.inf)
    lb[_nonnegative(lay)] = 0.0
    integer = np.zeros(N, dtype=bool)
    if design.deterministic:
        ub[lay.x0: lay.x0 + lay.n_x] = 1.0
        integer[lay.x0: lay.x0 + lay.n_x] = True
    lp = LinearProgram(design, A, rhs, eq, c, offset, lb, ub, integer, families, lay, plan.describe(design),
                       plan=plan, scale=value_scale(design))
    if exact:
        lp.exact = _exact_form(design, lay, plan)
    lp.build_seconds = time.perf_counter() - start
    return lp


def _compile_counts(design: Design, plan: Plan, exact: bool, start: float) -> LinearProgram:
    """The anonymous LP on type counts; ``exact=True`` adds its exact twin (same rows, same order,
    Fraction coefficients; efficiency as exact column bounds ``ub = 0``)."""
    env = design.env
    cnt = counts.count_vectors(env.n_agents, env.shape[0])
    groups = value_groups(env.values_exact[0])
    lay = counts.layout(design, cnt, groups)
    adjacent = bool(plan.ic) and plan.ic[0] == "adjacent"
    data = counts.count_data(design, exact=False)
    blocks = counts.build_rows(design, lay, data, cnt, groups, adjacent=adjacent)
    c, offset = counts.objective_vector(design, lay, data, cnt, groups)
    A, rhs, eq, families = _assemble(blocks, lay.n_cols)
    N, MK = lay.n_cols, lay.M * lay.K
    off = np.flatnonzero(counts.inefficient(design, cnt).ravel())  # decided exactly, shared by both twins
    lb, ub = np.full(N, -np.inf), np.full(N, np.inf)
    lb[:MK] = 0.0
    ub[off] = 0.0
    lp = LinearProgram(design, A, rhs, eq, c, offset, lb, ub, np.zeros(N, dtype=bool), families, lay,
                       plan.describe(design), plan=plan, scale=value_scale(design))
    lp.count_vectors = cnt
    if exact:
        dx = counts.count_data(design, exact=True)
        bx = counts.build_rows(design, lay, dx, cnt, groups, adjacent=adjacent)
        cx, offx = counts.objective_vector(design, lay, dx, cnt, groups)
        ubx: list[Fraction | None] = [None] * N
        for j in off.tolist():
            ubx[j] = Fraction(0)
        lp.exact = {**_exact_triplets(bx), "c": cx, "offset": offx,
                    "lb": [Fraction(0)] * MK + [None] * (N - MK), "ub": ubx}
    lp.build_seconds = time.perf_counter() - start
    return lp


def _compile_items(design: Design, plan: Plan, exact: bool, start: float) -> LinearProgram:
    """The item-symmetric LP (orbit representatives; IC pairs ``plan.ic_pairs[0]``)."""
    env = design.env
    orb = plan.item_orbits if plan.item_orbits is not None else items.orbits(env)
    pairs_ = plan.ic_pairs[0] if plan.ic_pairs else items.initial_pairs(env, orb)
    lay = items.layout(design, orb)
    data = Data.of(design, exact=False)
    blocks = items.build_rows(design, lay, data, orb, pairs_)
    c, offset = items.objective_vector(design, lay, data, orb)
    A, rhs, eq, families = _assemble(blocks, lay.n_cols)
    N = lay.n_cols
    lb, ub = np.full(N, -np.inf), np.full(N, np.inf)
    lb[: lay.R * lay.K] = 0.0
    lp = LinearProgram(design, A, rhs, eq, c, offset, lb, ub, np.zeros(N, dtype=bool), families, lay,
                       plan.describe(design), plan=plan, scale=value_scale(design))
    if exact:
        dx = Data.of(design, exact=True)
        bx = items.build_rows(design, lay, dx, orb, pairs_)
        cx, offx = items.objective_vector(design, lay, dx, orb)
        lp.exact = {**_exact_triplets(bx), "c": cx, "offset": offx,
                    "lb": [Fraction(0)] * (lay.R * lay.K) + [None] * lay.R, "ub": [None] * N}
    lp.build_seconds = time.perf_counter() - start
    return lp


def _compile_item_border(design: Design, plan: Plan, exact: bool, start: float) -> LinearProgram:
    """The per-item reduced form: columns Q (per class, type, item) and P; rows from ``plan.item_cuts``
    and ``plan.ic_pairs`` (initial ones when None)."""
    env = design.env
    st = plan.item_structure if plan.item_structure is not None else item_border.structure(
        env, getattr(design, "symmetric", None) is not False)
    cuts = plan.item_cuts if plan.item_cuts is not None else item_border.initial_cuts(env, st)
    pairs_ = plan.ic_pairs if plan.ic_pairs else item_border.initial_pairs(env, st)
    lay = item_border.layout(design, st)
    blocks = item_border.build_rows(design, lay, st, cuts, pairs_, exact=False)
    c, offset = item_border.objective_vector(design, lay, st, exact=False)
    A, rhs, eq, families = _assemble(blocks, lay.n_cols)
    N = lay.n_cols
    lb, ub = np.full(N, -np.inf), np.full(N, np.inf)
    lb[: lay.n_q], ub[: lay.n_q] = 0.0, 1.0
    plan = replace(plan, item_structure=st, item_cuts=cuts, ic_pairs=pairs_)
    lp = LinearProgram(design, A, rhs, eq, c, offset, lb, ub, np.zeros(N, dtype=bool), families, lay,
                       plan.describe(design), plan=plan, scale=value_scale(design))
    if exact:
        bx = item_border.build_rows(design, lay, st, cuts, pairs_, exact=True)
        cx, offx = item_border.objective_vector(design, lay, st, exact=True)
        lp.exact = {**_exact_triplets(bx), "c": cx, "offset": offx,
                    "lb": [Fraction(0)] * lay.n_q + [None] * (N - lay.n_q),
                    "ub": [Fraction(1)] * lay.n_q + [None] * (N - lay.n_q)}
    lp.build_seconds = time.perf_counter() - start
    return lp


def _layout(design: Design, plan: Plan) -> Layout:
    env = design.env
    groups = [value_groups(V) for V in (env.values_exact if env.is_private else env.profile_values_exact)]
    # interim variables X̄_i carry values only when values are private (v_i depends on θ_i alone)
    need_interim = env.is_private and env.is_independent and (design.ic == "bic" or design.ir in ("interim", "ex_ante"))
    interim_agents = tuple(range(env.n_agents)) if need_interim else ()
    return Layout(env.shape, env.n_outcomes, plan.payments == "interim", interim_agents, groups,
                  ex_post_x=not plan.border)


def _nonnegative(lay: Layout) -> np.ndarray:
    """Columns bounded below by 0: x, or under the Border reduction the win probabilities Q_i."""
    if lay.ex_post_x:
        return np.arange(lay.x0, lay.x0 + lay.n_x)
    return np.concatenate([lay.X0[i] + np.arange(lay.shape[i]) for i in range(lay.n)])


def _build_rows(design: Design, lay: Layout, plan: Plan, data: Data) -> list[Rows]:
    env = design.env
    out = []
    if not lay.ex_post_x:
        fam = Rows("cumulative", data)
        border_mod.cumulative_rows(fam, lay)
        out.append(fam)
        fam = Rows("border", data)
        border_mod.border_rows(fam, lay, plan.border_cuts)
        out.append(fam)
    else:
        fam = Rows("lottery", data)
        lottery.lottery_rows(fam, lay)
        out.append(fam)
    if design.allocation == "efficient":
        fam = Rows("efficiency", data)
        lottery.efficiency_rows(fam, lay, env.efficient_outcomes())
        out.append(fam)
    if lay.interim_agents and lay.ex_post_x:
        fam = Rows("interim", data)
        for i in lay.interim_agents:
            interim.interim_rows(fam, lay, i)
        out.append(fam)
    if design.ic != "none":
        fam = Rows("ic", data)
        for i, a in enumerate(env.agents):
            mode = plan.ic[i]
            t, s = plan.ic_pairs[i] if mode == "generated" else pairs(a.n_types, mode == "adjacent")
            if design.ic in ("dsic", "ex_post"):  # ex post IC: DSIC rows, values at the true profile
                ic.dsic_rows(fam, lay, i, t, s)
            elif env.is_independent and env.is_private:
                ic.bic_rows_interim(fam, lay, i, t, s)
            else:
                ic.bic_rows_correlated(fam, lay, i, t, s)
        out.append(fam)
    if design.ir != "none":
        fam = Rows("ir", data)
        build = {"ex_post": ir.ex_post_ir_rows, "interim": ir.interim_ir_rows, "ex_ante": ir.ex_ante_ir_rows}
        for i in range(env.n_agents):
            build[design.ir](fam, lay, i)
        out.append(fam)
    if design.budget != "none":
        fam = Rows("budget", data)
        budget.budget_rows(fam, lay, design.budget)
        out.append(fam)
    return out


def _concat(parts: list[np.ndarray], exact: bool) -> np.ndarray:
    if not parts:
        return np.empty(0, dtype=object if exact else float)
    return np.concatenate(parts) if not exact else np.concatenate([np.asarray(p, dtype=object) for p in parts])


def _assemble(blocks: list[Rows], n_cols: int):
    rows, cols, vals, rhs, eq, families = [], [], [], [], [], []
    offset = 0
    for b in blocks:
        if b.r:
            rows.append(np.concatenate(b.r) + offset)
            cols.append(np.concatenate(b.c))
            vals.append(np.concatenate(b.v).astype(float))
        rhs.append(np.concatenate(b.rhs).astype(float) if b.rhs else np.empty(0))
        eq.append(np.concatenate(b.eq) if b.eq else np.empty(0, bool))
        families.append(Family(b.name, offset, offset + b.count, _codes(b)))
        offset += b.count
    A = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(offset, n_cols)
    )
    A.sum_duplicates()
    A.eliminate_zeros()
    return A, np.concatenate(rhs), np.concatenate(eq), families


def _codes(b: Rows) -> dict[str, np.ndarray]:
    """Label codes of a family, −1 where a chunk of rows has no such label."""
    sizes = [x.size for x in b.rhs]
    out = {}
    for key in LABEL_KEYS:
        if key not in b.labels:
            continue
        code = np.full(b.count, -1, dtype=np.int64)
        parts, pos = iter(b.labels[key]), 0
        for size, keys in zip(sizes, b.chunk_keys):
            if key in keys:
                code[pos: pos + size] = next(parts)
            pos += size
        out[key] = code
    return out


def _exact_form(design: Design, lay: Layout, plan: Plan) -> dict:
    """The same rows in exact arithmetic: COO triplets with Fraction values."""
    sym, env_f = plan.symmetric, plan.payments == "envelope"
    data = symmetry.data(design, True) if sym else Data.of(design, exact=True)
    blocks = (symmetry.build_rows(design, lay, data) if sym else envelope.build_rows(design, lay, data) if env_f
              else _build_rows(design, lay, plan, data))
    c, off = (symmetry.objective_vector if sym else envelope.objective_vector if env_f
              else objective_vector)(design, lay, data)
    N = lay.n_cols
    lb: list[Fraction | None] = [None] * N
    ub: list[Fraction | None] = [None] * N
    for j in _nonnegative(lay).tolist():
        lb[j] = Fraction(0)
        if design.deterministic:
            ub[j] = Fraction(1)
    return {**_exact_triplets(blocks), "c": c, "offset": off, "lb": lb, "ub": ub}


def _exact_triplets(blocks: list[Rows]) -> dict:
    """Exact COO triplets (duplicates not summed), right-hand sides and senses of row blocks, in order."""
    rows, cols, vals, rhs, eq = [], [], [], [], []
    offset = 0
    for b in blocks:
        if b.r:
            rows.append(np.concatenate(b.r) + offset)
            cols.append(np.concatenate(b.c))
            vals.append(_concat(b.v, True))
        rhs.append(_concat(b.rhs, True))
        eq.append(np.concatenate(b.eq) if b.eq else np.empty(0, bool))
        offset += b.count
    return {"rows": np.concatenate(rows), "cols": np.concatenate(cols), "vals": _concat(vals, True),
            "rhs": _concat(rhs, True), "equality": np.concatenate(eq)}
