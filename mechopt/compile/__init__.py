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
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..design import Design
from . import border as border_mod
from . import budget, ic, interim, ir, lottery
from .layout import Data, Layout, Rows, affine_in_type, payments_can_be_interim, value_groups
from .objective import objective_vector
from .terms import pairs

__all__ = ["LinearProgram", "Family", "compile_design"]

LABEL_KEYS = ("agent", "type", "report", "profile", "group", "threshold")


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
    options: dict = field(default_factory=dict)
    _label_cache: dict = field(default_factory=dict, repr=False)

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

    def mechanism_arrays(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Allocation ``(S, K)`` and ex post payments ``(S, n)`` from a solution vector.

        Under the Border reduction the allocation is recovered from the interim
        win probabilities (:func:`mechopt.compile.border.recover_allocation`;
        its time is kept in ``recover_seconds``).
        """
        lay = self.layout
        if lay.ex_post_x:
            x = z[lay.x0: lay.x0 + lay.S * lay.K].reshape(lay.S, lay.K)
        else:
            x, self.recover_seconds = border_mod.recover_allocation(self, z)
        p = np.empty((lay.S, lay.n))
        for i in range(lay.n):
            p[:, i] = z[lay.pcol(np.arange(lay.S), i)]
        return x, p

    # ------------------------------------------------------------------ export
    def to_highs(self):
        """A ``highspy.Highs`` object holding this LP (as a minimization of −c)."""
        from ..backends.highs import build_highs

        return build_highs(self)

    def write(self, path: str) -> None:
        """Write the LP to an ``.mps`` or ``.lp`` file (format from the suffix), for debugging."""
        h = self.to_highs()
        status = h.writeModel(str(path))
        if str(status) not in ("HighsStatus.kOk", "HighsStatus.kWarning"):
            raise OSError(f"HiGHS could not write {path}: {status}")

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


def plan(
    design: Design, reductions: bool = True, border: bool | None = None, ic_pairs: dict | None = None
) -> tuple[Layout, dict[str, Any]]:
    """Decide the layout and the reductions for a design (see :func:`compile_design`)."""
    env = design.env
    groups = [value_groups(V) for V in env.values_exact]
    interim_payments = reductions and payments_can_be_interim(design)
    need_interim = env.is_independent and (design.ic == "bic" or design.ir in ("interim", "ex_ante"))
    interim_agents = tuple(range(env.n_agents)) if need_interim else ()
    info: dict[str, Any] = {"payments": "interim" if interim_payments else "ex_post"}
    if design.ic != "none":
        adj_ok = design.ic == "dsic" or env.is_independent
        info["ic"] = {
            a.name: "adjacent" if reductions and adj_ok and affine_in_type(a.types_exact, V) else "all pairs"
            for a, V in zip(env.agents, env.values_exact)
        }
        if design.ic == "bic":
            info["bic"] = "interim variables" if env.is_independent else "conditional beliefs"
    use_border, why = False, "switched off"
    if border is not False and reductions:
        use_border, why = border_mod.applies(design, groups, info, interim_payments, ic_pairs,
                                             size_check=border is None)
        if border and not use_border:
            from ..errors import SpecError

            raise SpecError(f"the Border reduction does not apply to this design: {why}")
    if env.kind == "single_item":
        info["allocation"] = "interim (Border)" if use_border else "ex post"
        info["border_reason"] = why
    lay = Layout(env.shape, env.n_outcomes, interim_payments, interim_agents, groups, ex_post_x=not use_border)
    return lay, info


def compile_design(
    design: Design, exact: bool = False, reductions: bool = True, ic_pairs: dict | None = None,
    border: bool | None = None,
) -> LinearProgram:
    """Build the LP of a design.

    Parameters
    ----------
    design : Design
    exact : bool
        Also keep the exact (Fraction) coefficients in ``LinearProgram.exact``.
    reductions : bool
        Allow the adjacent-IC and interim-payment reductions (both exact: they
        never change the optimum; turn off to get the plain formulation).
    ic_pairs : dict, optional
        ``{agent index: (t, s)}``: write only these (true type, report) IC pairs
        for that agent (used by IC row generation; the LP is then a relaxation).
    border : bool, optional
        The Border reduction (:mod:`mechopt.compile.border`): ``None`` (default)
        uses it where it provably applies and the grid is not too small;
        ``True`` requires it (error if it does not apply); ``False`` never.
    """
    start = time.perf_counter()
    env = design.env
    lay, info = plan(design, reductions, border, ic_pairs)
    if ic_pairs:
        info["ic"] = {
            a.name: f"generated ({len(ic_pairs[i][0])} of {a.n_types * (a.n_types - 1)} pairs)" if i in ic_pairs
            else info["ic"][a.name]
            for i, a in enumerate(design.env.agents)
        }
    data = Data.of(design, exact=False)
    blocks = _build_rows(design, lay, info, data, ic_pairs)
    c, offset = objective_vector(design, lay, data)
    A, rhs, eq, families = _assemble(blocks, lay.n_cols)
    N = lay.n_cols
    lb = np.full(N, -np.inf)
    ub = np.full(N, np.inf)
    lb[_nonnegative(lay)] = 0.0
    integer = np.zeros(N, dtype=bool)
    if design.deterministic:
        ub[lay.x0: lay.x0 + lay.n_x] = 1.0
        integer[lay.x0: lay.x0 + lay.n_x] = True
    lp = LinearProgram(design, A, rhs, eq, c, offset, lb, ub, integer, families, lay, info)
    lp.options = {"reductions": reductions, "ic_pairs": ic_pairs, "border": not lay.ex_post_x}
    if exact:
        lp.exact = _exact_form(design, lay, info, ic_pairs)
    lp.build_seconds = time.perf_counter() - start
    del env
    return lp


def _nonnegative(lay: Layout) -> np.ndarray:
    """Columns bounded below by 0: x, or under the Border reduction the win probabilities Q_i."""
    if lay.ex_post_x:
        return np.arange(lay.x0, lay.x0 + lay.n_x)
    return np.concatenate([lay.X0[i] + np.arange(lay.shape[i]) for i in range(lay.n)])


def _build_rows(design: Design, lay: Layout, info: dict, data: Data, ic_pairs: dict | None = None) -> list[Rows]:
    env = design.env
    out = []
    if not lay.ex_post_x:
        fam = Rows("cumulative", data)
        border_mod.cumulative_rows(fam, lay)
        out.append(fam)
        fam = Rows("border", data)
        border_mod.border_rows(fam, lay)
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
            t, s = ic_pairs[i] if ic_pairs and i in ic_pairs else pairs(a.n_types, info["ic"][a.name] == "adjacent")
            if design.ic == "dsic":
                ic.dsic_rows(fam, lay, i, t, s)
            elif env.is_independent:
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


def _exact_form(design: Design, lay: Layout, info: dict, ic_pairs: dict | None = None) -> dict:
    """The same rows in exact arithmetic: COO triplets with Fraction values."""
    data = Data.of(design, exact=True)
    blocks = _build_rows(design, lay, info, data, ic_pairs)
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
    c, off = objective_vector(design, lay, data)
    N = lay.n_cols
    lb: list[Fraction | None] = [None] * N
    ub: list[Fraction | None] = [None] * N
    for j in _nonnegative(lay).tolist():
        lb[j] = Fraction(0)
        if design.deterministic:
            ub[j] = Fraction(1)
    return {
        "rows": np.concatenate(rows),
        "cols": np.concatenate(cols),
        "vals": _concat(vals, True),
        "rhs": _concat(rhs, True),
        "equality": np.concatenate(eq),
        "c": c,
        "offset": off,
        "lb": lb,
        "ub": ub,
    }
